-- stg_customers: one row per customer version in the window (grain customer_id, version).
-- severity: error
select
    customer_id,
    version,
    count(*) as copies
from staging.stg_customers
where window_start = %(window_start)s
group by customer_id, version
having count(*) > 1
