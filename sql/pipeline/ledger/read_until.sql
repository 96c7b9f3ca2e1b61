-- read_until: how far in time the slot's log has been read and recorded (null: not at all yet).
select max(read_until) as read_until
from storepipe.capture_runs
where slot = %(slot)s
