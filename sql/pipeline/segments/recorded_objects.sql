-- recorded_objects: the objects already read for the windows starting in [%(range_start)s, %(range_end)s).
select
    window_start,
    object_key,
    etag
from storepipe.extracted_objects
where
    source = %(source)s
    and window_start >= %(range_start)s
    and window_start < %(range_end)s
