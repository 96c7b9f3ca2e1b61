-- quarantine rows: one window's quarantined rows in source order, up to the row limit (null: all).
select
    source,
    action,
    location,
    reason,
    raw,
    quarantined_at
from storepipe.quarantine
where
    window_start = %(window_start)s
    and (%(source)s::text is null or source = %(source)s)
order by source asc, quarantine_id asc
limit %(row_limit)s
