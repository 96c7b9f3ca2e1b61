insert into storepipe.check_results (
    window_start, check_name, severity, status, failing_rows, sample
) values (
    %(window_start)s, %(check_name)s, %(severity)s, %(status)s, %(failing_rows)s, %(sample)s
)
