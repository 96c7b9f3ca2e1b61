-- The tables partitioned by window (migration 0008): each one's partitions are kept bounded.
select
    pg_namespace.nspname as table_schema,
    pg_class.relname as table_name
from pg_catalog.pg_partitioned_table
inner join pg_catalog.pg_class on pg_partitioned_table.partrelid = pg_class.oid
inner join pg_catalog.pg_namespace on pg_class.relnamespace = pg_namespace.oid
where pg_namespace.nspname in ('store', 'staging')
order by table_schema, table_name
