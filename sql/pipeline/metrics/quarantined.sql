-- quarantined: rows set aside (action 'rejected'; flagged rows load and are not counted) per
-- source, over every window the warehouse holds; grain source.
select
    source,
    count(*) as row_count
from storepipe.quarantine
where action = 'rejected'
group by source
order by source
