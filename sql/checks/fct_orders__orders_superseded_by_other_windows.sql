-- fct_orders: the window's orders whose fact belongs to another window, since that window re-sent
-- them with a later delivery (the copy here stays in store.orders); listed, not an error. Only
-- when the window has fewer facts than loaded rows (a re-sent order, or one loaded twice here) are
-- they looked up one by one.
-- severity: warn
with

loaded as (
    select count(*) as orders from store.orders
    where window_start = %(window_start)s
),

published as (
    select count(*) as orders from analytics.fct_orders
    where window_start = %(window_start)s
),

fewer_facts as (
    select loaded.orders > published.orders as fewer
    from loaded
    cross join published
)

select distinct
    orders.order_id,
    orders.delivered_on at time zone 'UTC' as delivered_at,
    fct_orders.window_start as fact_window_start,
    fct_orders.delivered_at as fact_delivered_at
from store.orders
inner join analytics.fct_orders on orders.order_id = fct_orders.order_id
where
    (select fewer_facts.fewer from fewer_facts)
    and orders.window_start = %(window_start)s
    and fct_orders.window_start != %(window_start)s
