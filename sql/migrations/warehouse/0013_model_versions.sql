-- model_versions: every transform and publish marker records the version (fingerprint) of the SQL
-- that built it, so the windows built by another version are found in one query (invariant 13).
-- Markers written before this migration have none: "unknown version".
alter table storepipe.markers add column version text;

-- stale markers are found by (task_name, version): a range on the current version costs nothing
create index markers_task_version on storepipe.markers (task_name, version, window_start);

-- The normalized text of every version a marker was recorded with, and what it was combined with,
-- so `storepipe plan` can say what changed since a window was built (a diff) and whether only a
-- forward-only change stands between them.
create table storepipe.model_versions (
    fingerprint text primary key,
    node text not null,
    own_hash text not null,
    upstream jsonb not null,
    forward_only boolean not null,
    normalized_sql text not null,
    first_seen timestamptz not null default now()
);
