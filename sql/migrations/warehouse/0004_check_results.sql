-- Data check results: one row per check per window, replaced each time the window is audited.
create table storepipe.check_results (
    window_start timestamp not null,
    check_name text not null,
    severity text not null check (severity in ('error', 'warn')),
    status text not null check (status in ('pass', 'fail', 'warn')),
    failing_rows bigint not null,
    sample text,
    checked_at timestamptz not null default now(),
    primary key (window_start, check_name)
);
