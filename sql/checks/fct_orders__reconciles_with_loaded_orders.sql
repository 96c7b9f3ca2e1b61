-- fct_orders: every distinct valid order loaded for the window has one fact (in this window, or in
-- the window that re-sent it with a later delivery), and every fact of the window was loaded in it.
-- severity: error
with

loaded as (
    select distinct order_id from store.orders
    where window_start = %(window_start)s
),

window_facts as (
    select order_id from analytics.fct_orders
    where window_start = %(window_start)s
),

without_fact as (
    select
        loaded.order_id,
        'loaded in the window but has no fact' as problem
    from loaded
    left join analytics.fct_orders on loaded.order_id = fct_orders.order_id
    where fct_orders.order_id is null
),

not_loaded as (
    select
        window_facts.order_id,
        'a fact of the window that was not loaded in it' as problem
    from window_facts
    left join loaded on window_facts.order_id = loaded.order_id
    where loaded.order_id is null
)

select * from without_fact
union all
select * from not_loaded
