delete from {target}
where window_start = %(window_start)s
