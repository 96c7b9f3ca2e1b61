-- dim_customers: exactly one current version per customer the window changed, none for a customer
-- whose last change is a delete.
-- severity: error
with

touched as (
    select distinct customer_id from staging.stg_customers
    where window_start = %(window_start)s
),

last_changes as (
    select distinct on (stg_customers.customer_id)
        stg_customers.customer_id,
        stg_customers.op = 'delete' as is_deleted
    from staging.stg_customers
    inner join touched on stg_customers.customer_id = touched.customer_id
    order by
        stg_customers.customer_id asc,
        stg_customers.updated_at desc,
        stg_customers.commit_lsn desc nulls last
)

select
    last_changes.customer_id,
    last_changes.is_deleted,
    count(*) filter (where dim_customers.is_current) as current_versions
from last_changes
left join analytics.dim_customers
    on last_changes.customer_id = dim_customers.customer_id
group by last_changes.customer_id, last_changes.is_deleted
having count(*) filter (where dim_customers.is_current) != case when last_changes.is_deleted then 0 else 1 end
