-- Log-based change capture of customers (invariant 12): every loaded customer row is one change
-- from the log, with its op and commit, and a delete carries the key only.
alter table store.customers
add column op text,
add column commit_lsn pg_lsn,
add column committed_at timestamp,
alter column datetime_created drop not null,
alter column datetime_updated drop not null;

-- stg_customers keeps every version: its position in the log orders versions with equal times
alter table staging.stg_customers
add column op text,
add column commit_lsn pg_lsn,
add column committed_at timestamptz,
add column version integer;

-- The capture ledger: each segment the capture landed in the lake, recorded in the warehouse
-- before the slot moves past it. A window's customers are exactly its recorded segments.
create table storepipe.capture_segments (
    segment_key text primary key,
    slot text not null,
    window_start timestamp not null,
    row_count integer not null,
    checksum text not null,
    rejects_key text not null,
    first_lsn pg_lsn not null,
    last_lsn pg_lsn not null,
    run_from_lsn pg_lsn not null,
    landed_at timestamptz not null default clock_timestamp()
);

create index capture_segments_window_idx on storepipe.capture_segments (slot, window_start);

-- One row per capture run (a bounded read of the slot, or the initial snapshot): what it read,
-- and, when it read everything up to the WAL position taken at its start, that position's time.
create table storepipe.capture_runs (
    slot text not null,
    from_lsn pg_lsn not null,
    to_lsn pg_lsn,
    kind text not null,
    segments integer not null,
    read_until timestamp,
    landed_at timestamptz not null default clock_timestamp(),
    primary key (slot, from_lsn, kind)
);

-- a delete has the key only: no creation time of its own
alter table staging.stg_customers
alter column created_at drop not null;
