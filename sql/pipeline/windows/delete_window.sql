-- delete_window: the window's rows of a table that is not partitioned by window.
delete from {target}
where window_start = %(window_start)s
