-- fct_orders: the window's facts are the distinct valid orders loaded for it, but for those another
-- window re-sent with a later delivery, each of which has its fact there. The counts decide; only
-- when they differ are the orders joined, to name the ones without a fact or not loaded here.
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

counts_differ as (
    select (select count(*) from loaded) != (select count(*) from window_facts) as differ
),

without_fact as (
    select
        loaded.order_id,
        'loaded in the window but has no fact' as problem
    from loaded
    left join analytics.fct_orders on loaded.order_id = fct_orders.order_id
    where
        (select counts_differ.differ from counts_differ)
        and fct_orders.order_id is null
),

not_loaded as (
    select
        window_facts.order_id,
        'a fact of the window that was not loaded in it' as problem
    from window_facts
    left join loaded on window_facts.order_id = loaded.order_id
    where
        (select counts_differ.differ from counts_differ)
        and loaded.order_id is null
)

select * from without_fact
union all
select * from not_loaded
