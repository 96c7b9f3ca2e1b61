-- dim_customers: exactly one current version per customer the window changed.
-- severity: error
with

touched as (
    select customer_id from staging.stg_customers
    where window_start = %(window_start)s
)

select
    touched.customer_id,
    count(*) filter (where dim_customers.is_current) as current_versions
from touched
left join analytics.dim_customers
    on touched.customer_id = dim_customers.customer_id
group by touched.customer_id
having count(*) filter (where dim_customers.is_current) != 1
