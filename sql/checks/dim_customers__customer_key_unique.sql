-- dim_customers: customer_key is unique and not null for the customers the window changed.
-- severity: error
with

touched as (
    -- distinct: a customer has one row per change in the window
    select distinct customer_id from staging.stg_customers
    where window_start = %(window_start)s
)

select
    dim_customers.customer_key,
    count(*) as copies
from analytics.dim_customers
inner join touched on dim_customers.customer_id = touched.customer_id
group by dim_customers.customer_key
having count(*) > 1 or dim_customers.customer_key is null
