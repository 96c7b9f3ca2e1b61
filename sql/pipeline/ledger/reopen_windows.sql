-- reopen_windows: a window that gets a new customers segment is not done any more: the tasks
-- %(task_names)s (the customers extract and load and what is built on them) run again and replace
-- their rows, while the other sources' extracts and loads stand.
delete from storepipe.markers
where
    window_start = any(%(starts)s)
    and task_name = any(%(task_names)s)
