-- stg_customer_risk_score: the latest risk score assessed per customer in the window; grain customer_id
-- materialized: window
with

loaded as (
    select * from store.customer_risk_score
    where window_start = %(window_start)s
),

ranked as (
    select
        loaded.*,
        row_number() over (
            partition by loaded.customer_id
            order by loaded.assessed_at desc, loaded.risk_score desc
        ) as score_rank
    from loaded
),

final as (
    select
        customer_id,
        risk_score,
        assessed_at at time zone 'UTC' as assessed_at,
        window_start
    from ranked
    where score_rank = 1
)

select * from final
