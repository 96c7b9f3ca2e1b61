select 1 as done
from storepipe.markers
where
    task_name = %(task_name)s
    and window_start = %(window_start)s
    and (%(after)s::timestamptz is null or done_at >= %(after)s::timestamptz)
