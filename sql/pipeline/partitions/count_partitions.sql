-- How many partitions a partitioned table has (what a statement that cannot prune locks).
select count(*) as partitions
from pg_catalog.pg_inherits
where inhparent = %(partitioned)s::regclass
