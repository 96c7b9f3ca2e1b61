-- record_run: a capture run (a read of the slot, or the initial snapshot) and what it landed.
insert into storepipe.capture_runs (slot, from_lsn, to_lsn, kind, segments, read_until)
values (
    %(slot)s, %(from_lsn)s::pg_lsn, %(to_lsn)s::pg_lsn, %(kind)s, %(segments)s, %(read_until)s
)
on conflict (slot, from_lsn, kind) do nothing
