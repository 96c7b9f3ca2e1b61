-- newest: the latest window holding the marker %(task_name)s (for `publish`: the newest window
-- analysts can see); one row, null when there is none.
select max(window_start) as window_start
from storepipe.markers
where task_name = %(task_name)s
