-- The windows among %(starts)s for which every task in %(task_names)s is done.
select window_start
from storepipe.markers
where
    task_name = any(%(task_names)s)
    and window_start = any(%(starts)s)
group by window_start
having count(*) = %(name_count)s
