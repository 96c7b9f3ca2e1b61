-- fct_orders: one row per order, pointing at the customer version current at delivery (or the
-- unknown-customer member); grain order_id. A window writes its own orders and re-points the
-- published orders of every customer whose history it changed, so late or out-of-order customer
-- windows converge to the same facts. Those orders are read back from fct_orders itself (by its
-- customer index).
-- An order re-sent in another window has one fact: the latest delivery wins (deliveries of two
-- windows never tie), whichever window ran last; the other copy stays in store.orders and the
-- check fct_orders__orders_superseded_by_other_windows lists it.
-- The window's orders are read once, in order_id order (stg_orders ranks them so), and leave in
-- that order: no second sort, and the unique order_id index is filled in key order.
-- materialized: by_key order_id
with

changed_customers as (
    -- distinct: a customer has one row per change in the window
    select distinct customer_id from staging.stg_customers
    where window_start = %(window_start)s
),

-- each of the window's orders against the fact another window published for it, if any (by the
-- unique order_id index): the later delivery wins, then the later window
window_orders as (
    select
        stg_orders.order_id,
        resent.order_id is not null
        and (resent.delivered_at, resent.window_start) > (stg_orders.delivered_at, stg_orders.window_start)
            as resent_wins,
        stg_orders.customer_id,
        stg_orders.item_id,
        stg_orders.item_name,
        stg_orders.delivered_at,
        stg_orders.window_start,
        resent.customer_id as resent_customer_id,
        resent.item_id as resent_item_id,
        resent.item_name as resent_item_name,
        resent.delivered_at as resent_delivered_at,
        resent.window_start as resent_window_start
    from staging.stg_orders
    left join analytics.fct_orders as resent
        on
            stg_orders.order_id = resent.order_id
            and resent.window_start != %(window_start)s
    where stg_orders.window_start = %(window_start)s
),

-- other windows' facts of the customers this window changed (by the customer index), but for the
-- orders of this window, whose row above already weighs that fact
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
    where
        fct_orders.window_start != %(window_start)s
        and not exists (
            select from store.orders
            where
                orders.window_start = %(window_start)s
                and orders.order_id = fct_orders.order_id
        )
),

orders as (
    select
        order_id,
        case when resent_wins then resent_customer_id else customer_id end as customer_id,
        case when resent_wins then resent_item_id else item_id end as item_id,
        case when resent_wins then resent_item_name else item_name end as item_name,
        case when resent_wins then resent_delivered_at else delivered_at end as delivered_at,
        case when resent_wins then resent_window_start else window_start end as window_start
    from window_orders
    union all
    select * from repointed_orders
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
