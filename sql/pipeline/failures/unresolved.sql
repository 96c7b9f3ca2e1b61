-- unresolved: per window among %(starts)s, its latest failure not followed by that task's marker;
-- grain window_start.
-- (the next line only gives sqlfluff a value to parse where the starts parameter goes)
-- sqlfluff:templater:placeholder:starts:array[localtimestamp]
select distinct on (task_failures.window_start)
    task_failures.window_start,
    task_failures.task_name,
    task_failures.error
from storepipe.task_failures
left join storepipe.markers
    on
        task_failures.task_name = markers.task_name
        and task_failures.window_start = markers.window_start
        and task_failures.failed_at <= markers.done_at
where
    task_failures.window_start = any(%(starts)s)
    and markers.task_name is null
order by task_failures.window_start asc, task_failures.failed_at desc
