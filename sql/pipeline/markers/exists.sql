select 1 as done
from storepipe.markers
where
    task_name = %(task_name)s
    and window_start = %(window_start)s
