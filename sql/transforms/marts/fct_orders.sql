-- fct_orders: one row per order, pointing at the customer version current at delivery (or the
-- unknown-customer member); grain order_id. A window writes its own orders and re-points the
-- orders of every customer whose history it changed, so late or out-of-order customer windows
-- converge to the same facts.
-- materialized: by_key order_id
with

changed_customers as (
    select customer_id from staging.stg_customers
    where window_start = %(window_start)s
),

window_orders as (
    select * from staging.stg_orders
    where window_start = %(window_start)s
),

repointed_orders as (
    select stg_orders.* from staging.stg_orders
    inner join changed_customers on stg_orders.customer_id = changed_customers.customer_id
    where stg_orders.window_start != %(window_start)s
),

orders as (
    select * from window_orders
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
