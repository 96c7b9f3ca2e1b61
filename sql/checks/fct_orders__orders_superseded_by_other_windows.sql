-- fct_orders: the window's orders whose fact belongs to another window, since that window re-sent
-- them with a later delivery (the copy here stays in store.orders); listed, not an error. Only
-- when the window has fewer facts than staged orders are they looked up one by one.
-- severity: warn
with

staged as (
    select count(*) as orders from staging.stg_orders
    where window_start = %(window_start)s
),

published as (
    select count(*) as orders from analytics.fct_orders
    where window_start = %(window_start)s
),

fewer_facts as (
    select staged.orders > published.orders as fewer
    from staged
    cross join published
)

select
    stg_orders.order_id,
    stg_orders.delivered_at,
    fct_orders.window_start as fact_window_start,
    fct_orders.delivered_at as fact_delivered_at
from staging.stg_orders
inner join analytics.fct_orders on stg_orders.order_id = fct_orders.order_id
where
    (select fewer_facts.fewer from fewer_facts)
    and stg_orders.window_start = %(window_start)s
    and fct_orders.window_start != %(window_start)s
