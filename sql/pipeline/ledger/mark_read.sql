-- mark_read: a read from this position found no change committed before %(read_until)s, so the
-- log is landed up to that time; a later read from the same position only moves it forward.
insert into storepipe.capture_runs (slot, from_lsn, to_lsn, kind, segments, read_until)
values (%(slot)s, %(from_lsn)s::pg_lsn, null, %(kind)s, 0, %(read_until)s)
on conflict (slot, from_lsn, kind) do update
    set read_until = greatest(capture_runs.read_until, excluded.read_until)
