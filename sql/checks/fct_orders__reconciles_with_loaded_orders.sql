-- fct_orders: the window's facts are exactly the distinct valid orders loaded for it.
-- severity: error
with

loaded as (
    select count(distinct order_id) as orders from store.orders
    where window_start = %(window_start)s
),

published as (
    select count(*) as orders from analytics.fct_orders
    where window_start = %(window_start)s
)

select
    loaded.orders as loaded_orders,
    published.orders as published_orders
from loaded
cross join published
where loaded.orders != published.orders
