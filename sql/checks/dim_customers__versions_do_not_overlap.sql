-- dim_customers: each version ends after it starts, and a customer's versions never overlap.
-- severity: error
with

touched as (
    -- distinct: a customer has one row per change in the window
    select distinct customer_id from staging.stg_customers
    where window_start = %(window_start)s
),

versions as (
    select dim_customers.*
    from analytics.dim_customers
    inner join touched on dim_customers.customer_id = touched.customer_id
)

select
    earlier.customer_id,
    earlier.customer_key,
    later.customer_key as overlapping_key
from versions as earlier
inner join versions as later
    on
        earlier.customer_id = later.customer_id
        and earlier.customer_key != later.customer_key
        and earlier.valid_from <= later.valid_from
        and earlier.valid_to > later.valid_from

union all

select
    customer_id,
    customer_key,
    null as overlapping_key
from versions
where valid_from >= valid_to
