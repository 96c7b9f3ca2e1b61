-- lake_segments: a window's orders may land in several immutable lake segments (its first
-- extract, then one per batch of late objects), each recorded with the objects it holds, so a
-- late object is found by comparing a listing with what was read, and a load reads every segment.
-- Windows extracted before this migration have no rows here: their one lake object is the
-- extract marker's, as before.
create table storepipe.lake_segments (
    source text not null,
    window_start timestamp not null,
    segment text not null,
    data_key text not null,
    rejects_key text not null,
    row_count bigint not null,
    checksum text not null,
    landed_at timestamptz not null default now(),
    primary key (source, window_start, segment)
);

create table storepipe.extracted_objects (
    source text not null,
    window_start timestamp not null,
    object_key text not null,
    etag text not null,
    object_size bigint not null,
    segment text not null,
    primary key (source, window_start, object_key, etag)
);

-- windows re-opened because objects appeared under them after their extract, and late objects
-- found too far back to re-open (action 'too_late'): what `storepipe status` and `storepipe late` show
create table storepipe.late_objects (
    source text not null,
    window_start timestamp not null,
    object_key text not null,
    etag text not null,
    action text not null check (action in ('reopened', 'too_late')),
    found_at timestamptz not null default now(),
    primary key (source, window_start, object_key, etag)
);
