-- rows_in_windows: rows the markers %(task_names)s recorded over the windows %(starts)s.
select coalesce(sum(row_count), 0) as row_count
from storepipe.markers
where
    task_name = any(%(task_names)s)
    and window_start = any(%(starts)s)
