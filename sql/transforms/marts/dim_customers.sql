-- dim_customers: one row per customer version (SCD2) with state name and latest risk score;
-- grain customer_key. A deleted customer's last version ends at the delete's commit time and no
-- version of it is current. Rebuilt for every customer the window touched, from the whole captured
-- change log, so windows processed in any order give the same history.
-- materialized: by_key customer_id
with

touched as (
    select customer_id from staging.stg_customers
    where window_start = %(window_start)s
    union
    select customer_id from staging.stg_customer_risk_score
    where window_start = %(window_start)s
),

versions as (
    -- a version landed twice counts once: query capture re-reading a row in another window, or a
    -- snapshot row repeating a version the log gave (a reset's new snapshot), where the log's copy wins
    select distinct on (stg_customers.customer_id, stg_customers.updated_at, stg_customers.commit_lsn) stg_customers.*
    from staging.stg_customers
    inner join touched on stg_customers.customer_id = touched.customer_id
    where
        stg_customers.op != 'snapshot'
        or not exists (
            select 1 from staging.stg_customers as logged
            where
                logged.customer_id = stg_customers.customer_id
                and logged.updated_at = stg_customers.updated_at
                and logged.op in ('insert', 'update')
        )
    order by
        stg_customers.customer_id asc,
        stg_customers.updated_at asc,
        stg_customers.commit_lsn asc nulls first,
        stg_customers.window_start desc
),

latest_scores as (
    select distinct on (scores.customer_id)
        scores.customer_id,
        scores.risk_score
    from staging.stg_customer_risk_score as scores
    inner join touched on scores.customer_id = touched.customer_id
    order by scores.customer_id asc, scores.assessed_at desc, scores.risk_score desc
),

states as (
    select * from store.states
),

ordered as (
    select
        versions.*,
        row_number() over customer_versions as version_number,
        -- the next change ends this version: an update at its datetime_updated, a delete at its commit
        lead(versions.updated_at) over customer_versions as next_changed_at
    from versions
    window customer_versions as (
        partition by versions.customer_id
        order by versions.updated_at asc, versions.commit_lsn asc nulls first
    )
),

history as (
    select
        ordered.*,
        -- the first version captured stands from the customer's creation on, or from its own
        -- change if that is earlier (a flagged row updated before created): never after the next
        -- version's start, so versions stay contiguous and their keys distinct
        case
            when ordered.version_number = 1 then least(ordered.created_at, ordered.updated_at)
            else ordered.updated_at
        end as valid_from,
        coalesce(ordered.next_changed_at, timestamptz '9999-12-31 00:00:00+00') as valid_to
    from ordered
    -- a delete is no version: it only closes the one before it
    where ordered.op != 'delete'
),

final as (
    select
        -- keyed on the instant, not its text, so the session's time zone cannot change a key
        -- and on the commit, for two versions stamped with the same time
        md5(
            history.customer_id::text || '|' || extract(epoch from history.valid_from)::text
            || coalesce('|' || history.commit_lsn::text, '')
        )::uuid as customer_key,
        history.customer_id,
        history.first_name,
        history.last_name,
        history.state_code,
        states.state_name,
        latest_scores.risk_score,
        history.valid_from,
        history.valid_to,
        history.valid_to = timestamptz '9999-12-31 00:00:00+00' as is_current
    from history
    left join states on history.state_code = states.state_code
    left join latest_scores on history.customer_id = latest_scores.customer_id
)

select * from final
