-- stg_orders_ephemeral: stg_orders is no longer written (issue 18). Its SELECT (one row per order_id
-- of the window) is inlined into fct_orders, which reads it once, so a window's orders are written
-- twice (store.orders, fct_orders) instead of three times. Its table and partitions go, and so do its
-- markers and recorded failures: no task writes or expects them any more, and a failure no marker
-- can follow would otherwise stay unresolved in `storepipe status` and the alerts for good.
drop table staging.stg_orders cascade;

delete from storepipe.markers
where task_name = 'transform:stg_orders';

delete from storepipe.task_failures
where task_name = 'transform:stg_orders';
