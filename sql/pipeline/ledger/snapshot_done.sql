-- snapshot_done: whether the slot's initial snapshot was landed whole and recorded.
select count(*) > 0 as is_done
from storepipe.capture_runs
where
    slot = %(slot)s
    and kind = 'snapshot'
