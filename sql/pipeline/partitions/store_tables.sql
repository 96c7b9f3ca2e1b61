-- The loaded tables that are not partitioned (store.customers, store.customer_risk_score):
-- retention deletes their old windows' rows. Staging reads each of them one window at a time.
select pg_class.relname as table_name
from pg_catalog.pg_class
inner join pg_catalog.pg_namespace on pg_class.relnamespace = pg_namespace.oid
inner join pg_catalog.pg_attribute on pg_class.oid = pg_attribute.attrelid
where
    pg_namespace.nspname = 'store'
    and pg_class.relkind = 'r'
    and not pg_class.relispartition
    and pg_attribute.attname = 'window_start'
    and not pg_attribute.attisdropped
order by table_name
