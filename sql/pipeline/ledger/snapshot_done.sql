-- snapshot_done: whether the slot's snapshot was landed whole and recorded, after its last reset
-- (a reset is recorded at the server's WAL position then; the new slot's snapshot comes after it).
select count(*) > 0 as is_done
from storepipe.capture_runs as snapshots
where
    snapshots.slot = %(slot)s
    and snapshots.kind = 'snapshot'
    and snapshots.from_lsn >= coalesce(
        (
            select max(resets.from_lsn) from storepipe.capture_runs as resets
            where resets.slot = %(slot)s and resets.kind = 'reset'  -- noqa: RF02
        ),
        '0/0'::pg_lsn
    )
