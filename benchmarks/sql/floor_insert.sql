-- floor_insert: the least SQL for the window's facts once its file is in bench.raw_orders (fresh,
-- unindexed): one statement keeping one row per order_id (the latest delivery, then the lowest
-- item_id, ranked as stg_orders ranks them), pointed at the customer version current at delivery (or
-- the unknown member, as fct_orders does), into bench.floor_orders: fct_orders' columns and indexes.
insert into bench.floor_orders (
    order_id, customer_key, customer_id, item_id, item_name, delivered_at, window_start
)
with

orders as (
    select distinct on (raw_orders.order_id)
        raw_orders.order_id,
        raw_orders.customer_id,
        raw_orders.item_id,
        trim(raw_orders.item_name) as item_name,
        raw_orders.delivered_on at time zone 'UTC' as delivered_at,
        raw_orders.window_start
    from bench.raw_orders
    order by
        raw_orders.order_id asc,
        raw_orders.delivered_on desc,
        raw_orders.item_id asc,
        raw_orders.customer_id asc,
        raw_orders.item_name asc
),

final as (
    select
        orders.order_id,
        coalesce(dim_customers.customer_key, '00000000-0000-0000-0000-000000000000'::uuid) as customer_key,
        orders.customer_id,
        orders.item_id,
        orders.item_name,
        orders.delivered_at,
        orders.window_start
    from orders
    left join analytics.dim_customers
        on
            orders.customer_id = dim_customers.customer_id
            and orders.delivered_at >= dim_customers.valid_from
            and orders.delivered_at < dim_customers.valid_to
)

select * from final;
