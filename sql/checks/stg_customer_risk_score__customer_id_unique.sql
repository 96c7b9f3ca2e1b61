-- stg_customer_risk_score: one score per customer per window.
-- severity: error
select
    customer_id,
    count(*) as scores
from staging.stg_customer_risk_score
where window_start = %(window_start)s
group by customer_id
having count(*) > 1
