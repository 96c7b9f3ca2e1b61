-- reopen_windows: a window that gets a new customers segment is not done any more: the task
-- %(task_name)s (one of the customers extract and load and what is built on them, taken one at a
-- time in the order tasks hold them) runs again and replaces its rows, while the other sources'
-- extracts and loads stand.
delete from storepipe.markers
where
    window_start = any(%(starts)s)
    and task_name = %(task_name)s
