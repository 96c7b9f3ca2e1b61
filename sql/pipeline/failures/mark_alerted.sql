-- mark_alerted: the failures of the windows %(starts)s were just in an alert.
-- sqlfluff:templater:placeholder:starts:array[localtimestamp]
update storepipe.task_failures
set alerted_at = now()
where window_start = any(%(starts)s)
