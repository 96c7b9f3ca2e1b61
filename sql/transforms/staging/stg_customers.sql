-- stg_customers: every captured change of a customer filed in the window, typed and trimmed,
-- grain (customer_id, version), version numbering a customer's changes in the window by
-- (datetime_updated, commit_lsn). A delete has the key only; its updated_at is its commit time.
-- Rows of `capture = query` have no op (one per customer: the source's row when the window ran).
-- materialized: window
with

loaded as (
    select * from store.customers
    where window_start = %(window_start)s
),

changes as (
    select
        loaded.*,
        coalesce(loaded.datetime_updated, loaded.committed_at) as changed_at
    from loaded
),

final as (
    select
        customer_id,
        nullif(trim(first_name), '') as first_name,
        nullif(trim(last_name), '') as last_name,
        upper(trim(state_code)) as state_code,
        datetime_created at time zone 'UTC' as created_at,
        changed_at at time zone 'UTC' as updated_at,
        coalesce(op, 'snapshot') as op,
        commit_lsn,
        committed_at at time zone 'UTC' as committed_at,
        row_number() over (
            partition by customer_id
            order by changed_at asc, commit_lsn asc nulls first
        )::integer as version,
        window_start
    from changes
)

select * from final
