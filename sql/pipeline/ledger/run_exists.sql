-- run_exists: whether the ledger holds the run that started at this position of the slot.
select to_lsn::text as to_lsn
from storepipe.capture_runs
where
    slot = %(slot)s
    and from_lsn = %(from_lsn)s::pg_lsn
    and kind = %(kind)s
