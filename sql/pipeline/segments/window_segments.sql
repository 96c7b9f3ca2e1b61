-- window_segments: the lake segments of a window, first landed first.
select
    segment,
    data_key,
    rejects_key,
    row_count,
    checksum
from storepipe.lake_segments
where
    source = %(source)s
    and window_start = %(window_start)s
order by landed_at asc, segment asc
