-- markers_in_range: every marker of the windows starting in [%(range_start)s, %(range_end)s);
-- grain (window_start, task_name).
select
    window_start,
    task_name,
    row_count
from storepipe.markers
where
    window_start >= %(range_start)s
    and window_start < %(range_end)s
order by window_start asc, task_name asc
