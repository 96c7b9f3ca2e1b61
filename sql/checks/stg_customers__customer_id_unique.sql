-- stg_customers: one version per customer per window.
-- severity: error
select
    customer_id,
    count(*) as versions
from staging.stg_customers
where window_start = %(window_start)s
group by customer_id
having count(*) > 1
