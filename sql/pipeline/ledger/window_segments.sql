-- window_segments: the segments of one window, in log order; together they are its customers.
select
    segment_key,
    rejects_key,
    row_count,
    checksum
from storepipe.capture_segments
where
    slot = %(slot)s
    and window_start = %(window_start)s
order by first_lsn asc, segment_key asc
