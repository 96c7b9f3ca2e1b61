-- fct_orders: one row per order delivered in the window, pointing at the customer version
-- current at delivery (or the unknown-customer member); grain order_id.
-- materialized: window
with

orders as (
    select * from staging.stg_orders
    where window_start = %(window_start)s
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
