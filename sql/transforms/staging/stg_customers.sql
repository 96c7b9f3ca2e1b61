-- stg_customers: the customer versions captured in the window, typed and trimmed; grain customer_id
-- (the latest version per customer within the window wins).
-- materialized: window
with

loaded as (
    select * from store.customers
    where window_start = %(window_start)s
),

ranked as (
    select
        loaded.*,
        row_number() over (
            partition by loaded.customer_id
            order by loaded.datetime_updated desc, loaded.datetime_created desc
        ) as version_rank
    from loaded
),

final as (
    select
        customer_id,
        nullif(trim(first_name), '') as first_name,
        nullif(trim(last_name), '') as last_name,
        upper(trim(state_code)) as state_code,
        datetime_created at time zone 'UTC' as created_at,
        datetime_updated at time zone 'UTC' as updated_at,
        window_start
    from ranked
    where version_rank = 1
)

select * from final
