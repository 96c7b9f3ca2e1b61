-- floor_dim_customers: the floor's dim_customers as RunWindow's warehouse holds it when it builds
-- fct_orders: the unknown member (from the migrations) plus one current version per benchmark
-- customer (the customers the whole-window case puts in the source), valid from its creation and
-- keyed as marts/dim_customers.sql keys a customer's first version; its risk score as the API gives it.
insert into analytics.dim_customers (
    customer_key,
    customer_id,
    first_name,
    last_name,
    state_code,
    state_name,
    risk_score,
    valid_from,
    valid_to,
    is_current
)
with

customers as (
    select
        customer.customer_id,
        customer.first_name,
        customer.last_name,
        customer.state_code,
        customer.risk_score,
        customer.created at time zone 'UTC' as valid_from
    from
        unnest(
            %(customer_ids)s::integer[],
            %(first_names)s::text[],
            %(last_names)s::text[],
            %(state_codes)s::text[],
            %(risk_scores)s::integer[],
            %(created)s::timestamp[]
        ) as customer (customer_id, first_name, last_name, state_code, risk_score, created)
),

final as (
    select
        md5(
            customers.customer_id::text || '|' || extract(epoch from customers.valid_from)::text
        )::uuid as customer_key,
        customers.customer_id,
        customers.first_name,
        customers.last_name,
        customers.state_code,
        states.state_name,
        customers.risk_score,
        customers.valid_from,
        timestamptz '9999-12-31 00:00:00+00' as valid_to,
        true as is_current
    from customers
    left join store.states on customers.state_code = states.state_code
)

select * from final
