select
    task_name,
    window_start,
    task_id,
    row_count,
    checksum,
    object_key,
    done_at,
    version
from storepipe.markers
where
    task_name = %(task_name)s
    and window_start = %(window_start)s
