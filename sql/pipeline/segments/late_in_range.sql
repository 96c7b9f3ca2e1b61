-- late_in_range: the late objects of the windows starting in [%(range_start)s, %(range_end)s).
select
    window_start,
    object_key,
    action,
    found_at
from storepipe.late_objects
where
    window_start >= %(range_start)s
    and window_start < %(range_end)s
order by window_start asc, object_key asc
