-- Task failures: the latest failure of each task for each window, so a backfill's dry run and
-- `storepipe status` can tell a failed window from a missing one. A failure counts until the
-- task's marker is written after it.
create table storepipe.task_failures (
    task_name text not null,
    window_start timestamp not null,
    task_id text not null,
    error text not null,
    failed_at timestamptz not null default clock_timestamp(),
    primary key (task_name, window_start)
);
