-- stg_customers: every version has a customer_id.
-- severity: error
select *
from staging.stg_customers
where
    window_start = %(window_start)s
    and customer_id is null
