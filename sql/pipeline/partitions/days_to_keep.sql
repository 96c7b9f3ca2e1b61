-- The days of the tables partitioned by window (migration 0008) that the upkeep must change,
-- oldest first: days before `drop_before` (retention; null when off) to drop, and days before
-- `roll_up_before` still in window partitions to roll up. Names are migration 0015's:
-- parent_YYYYMMDD for a rolled-up day, parent_YYYYMMDD_HHMI for a window. One query, so that a
-- cron run with nothing to do costs one lookup.
with

partitioned as (
    select
        pg_class.oid as parent_oid,
        pg_namespace.nspname || '.' || pg_class.relname as parent_table
    from pg_catalog.pg_partitioned_table
    inner join pg_catalog.pg_class on pg_partitioned_table.partrelid = pg_class.oid
    inner join pg_catalog.pg_namespace on pg_class.relnamespace = pg_namespace.oid
    where pg_namespace.nspname in ('store', 'staging')
),

days as (
    select
        partitioned.parent_table,
        to_date(substring(child.relname from '_(\d{8})(?:_\d{4})?$'), 'YYYYMMDD') as day,
        bool_or(child.relname ~ '_\d{8}$') as rolled_up
    from partitioned
    inner join pg_catalog.pg_inherits on partitioned.parent_oid = pg_inherits.inhparent
    inner join pg_catalog.pg_class as child on pg_inherits.inhrelid = child.oid
    where child.relname ~ '_\d{8}(_\d{4})?$'
    group by partitioned.parent_table, day
)

select
    parent_table,
    day,
    case when day < %(drop_before)s::date then 'drop_day' else 'roll_up_day' end as step
from days
where day < %(drop_before)s::date or (not rolled_up and day < %(roll_up_before)s::date)
order by parent_table, day
