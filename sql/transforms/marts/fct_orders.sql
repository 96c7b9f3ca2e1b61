-- fct_orders: one row per order, pointing at the customer version current at delivery (or the
-- unknown-customer member); grain order_id. A window writes its own orders and re-points the
-- published orders of every customer whose history it changed, so late or out-of-order customer
-- windows converge to the same facts. Those orders are read back from fct_orders itself (by its
-- customer index): staging.stg_orders is only ever read one window (one partition) at a time.
-- An order re-sent in another window has one fact: the latest delivery wins (deliveries of two
-- windows never tie), whichever window ran last; the other copy stays in store.orders and the
-- check fct_orders__orders_superseded_by_other_windows lists it.
-- materialized: by_key order_id
with

changed_customers as (
    -- distinct: a customer has one row per change in the window
    select distinct customer_id from staging.stg_customers
    where window_start = %(window_start)s
),

window_orders as (
    select
        order_id,
        customer_id,
        item_id,
        item_name,
        delivered_at,
        window_start
    from staging.stg_orders
    where window_start = %(window_start)s
),

-- other windows' facts this window touches: its changed customers' orders (by the customer
-- index), and its own orders that another window published too (by the unique order_id index):
-- two joins, not one OR, so each can use its index rather than scan every window's facts
repointed_orders as (
    select
        fct_orders.order_id,
        fct_orders.customer_id,
        fct_orders.item_id,
        fct_orders.item_name,
        fct_orders.delivered_at,
        fct_orders.window_start
    from analytics.fct_orders
    inner join changed_customers on fct_orders.customer_id = changed_customers.customer_id
    where fct_orders.window_start != %(window_start)s
),

resent_orders as (
    select
        fct_orders.order_id,
        fct_orders.customer_id,
        fct_orders.item_id,
        fct_orders.item_name,
        fct_orders.delivered_at,
        fct_orders.window_start
    from analytics.fct_orders
    inner join window_orders on fct_orders.order_id = window_orders.order_id
    where fct_orders.window_start != %(window_start)s
),

orders as (
    select distinct on (candidates.order_id) candidates.*
    from (
        select * from window_orders
        union all
        select * from repointed_orders
        union all
        select * from resent_orders
    ) as candidates
    order by candidates.order_id asc, candidates.delivered_at desc, candidates.window_start desc
),

customers as (
    select
        customer_key,
        customer_id,
        valid_from,
        valid_to
    from analytics.dim_customers
),

final as (
    select
        orders.order_id,
        coalesce(customers.customer_key, '00000000-0000-0000-0000-000000000000'::uuid) as customer_key,
        orders.customer_id,
        orders.item_id,
        orders.item_name,
        orders.delivered_at,
        orders.window_start
    from orders
    left join customers
        on
            orders.customer_id = customers.customer_id
            and orders.delivered_at >= customers.valid_from
            and orders.delivered_at < customers.valid_to
)

select * from final
