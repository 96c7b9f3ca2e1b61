-- stg_customer_risk_score: scores are 1..100.
-- severity: error
select *
from staging.stg_customer_risk_score
where
    window_start = %(window_start)s
    and (risk_score is null or risk_score not between 1 and 100)
