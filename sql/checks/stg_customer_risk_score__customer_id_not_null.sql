-- stg_customer_risk_score: every score names its customer.
-- severity: error
select *
from staging.stg_customer_risk_score
where
    window_start = %(window_start)s
    and customer_id is null
