delete from storepipe.check_results
where window_start = %(window_start)s
