delete from {table}
where window_start = %(window_start)s
