-- reopened: windows that late objects re-opened, per source, ever; grain source.
select
    source,
    count(distinct window_start) as windows
from storepipe.late_objects
where action = 'reopened'
group by source
order by source
