select
    check_name,
    severity,
    status,
    failing_rows,
    sample,
    checked_at
from storepipe.check_results
where window_start = %(window_start)s
order by status = 'pass', check_name
