-- to_alert: the windows among %(starts)s with an unresolved failure that no alert has named, or
-- none since %(repeat_after)s ago; grain window_start.
-- sqlfluff:templater:placeholder:starts:array[localtimestamp]
-- sqlfluff:templater:placeholder:repeat_after:interval '4 hours'
select distinct task_failures.window_start
from storepipe.task_failures
left join storepipe.markers
    on
        task_failures.task_name = markers.task_name
        and task_failures.window_start = markers.window_start
        and task_failures.failed_at <= markers.done_at
where
    task_failures.window_start = any(%(starts)s)
    and markers.task_name is null
    and (
        task_failures.alerted_at is null
        or task_failures.alerted_at < now() - %(repeat_after)s
    )
