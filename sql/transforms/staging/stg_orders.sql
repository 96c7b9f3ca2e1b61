-- stg_orders: the orders delivered in the window, typed and trimmed; grain order_id
-- (a duplicated order_id keeps its latest delivery, then the lowest item_id, so re-runs pick the same row).
-- Ephemeral: no table; fct_orders reads it inlined, so a window's orders are not written a third time
-- (issue 18). Its columns cannot be null (store.orders refuses nulls) and its grain is enforced by
-- fct_orders' unique order_id, so it has no checks of its own to run a second time.
-- materialized: ephemeral
with

loaded as (
    select * from store.orders
    where window_start = %(window_start)s
),

ranked as (
    select
        loaded.*,
        row_number() over (
            partition by loaded.order_id
            order by loaded.delivered_on desc, loaded.item_id asc, loaded.customer_id asc, loaded.item_name asc
        ) as order_rank
    from loaded
),

final as (
    select
        order_id,
        customer_id,
        item_id,
        trim(item_name) as item_name,
        delivered_on at time zone 'UTC' as delivered_at,
        window_start
    from ranked
    where order_rank = 1
)

select * from final
