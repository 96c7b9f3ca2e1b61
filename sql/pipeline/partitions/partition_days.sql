-- The days a partitioned table holds, oldest first: whether each is rolled up into one partition
-- (migration 0015's names: parent_YYYYMMDD; a window's is parent_YYYYMMDD_HHMI) and how many
-- partitions it has.
select
    to_date(substring(child.relname from '_(\d{8})(?:_\d{4})?$'), 'YYYYMMDD') as day,
    bool_or(child.relname ~ '_\d{8}$') as rolled_up,
    count(*) as partitions
from pg_catalog.pg_inherits
inner join pg_catalog.pg_class as child on pg_inherits.inhrelid = child.oid
where
    pg_inherits.inhparent = %(partitioned)s::regclass
    and child.relname ~ '_\d{8}(_\d{4})?$'
group by day
order by day
