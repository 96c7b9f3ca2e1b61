-- record_segment: a landed segment enters the ledger; the same segment again (a repair that
-- finds it recorded) changes nothing.
insert into storepipe.capture_segments (
    segment_key, slot, window_start, row_count, checksum, rejects_key, first_lsn, last_lsn, run_from_lsn
)
values (
    %(segment_key)s,
    %(slot)s,
    %(window_start)s,
    %(row_count)s,
    %(checksum)s,
    %(rejects_key)s,
    %(first_lsn)s::pg_lsn,
    %(last_lsn)s::pg_lsn,
    %(run_from_lsn)s::pg_lsn
)
on conflict (segment_key) do nothing
