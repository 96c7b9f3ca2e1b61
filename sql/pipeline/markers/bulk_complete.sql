-- The windows among %(starts)s for which every task in %(task_names)s is done (since %(after)s,
-- when a forced rebuild asks for markers newer than its start).
select window_start
from storepipe.markers
where
    task_name = any(%(task_names)s)
    and window_start = any(%(starts)s)
    and (%(after)s::timestamptz is null or done_at >= %(after)s::timestamptz)
group by window_start
having count(*) = %(name_count)s
