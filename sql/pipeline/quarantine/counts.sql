-- quarantine counts: rows per source and action for one window; grain (source, action).
select
    source,
    action,
    count(*) as row_count
from storepipe.quarantine
where
    window_start = %(window_start)s
    and (%(source)s::text is null or source = %(source)s)
group by source, action
order by source, action
