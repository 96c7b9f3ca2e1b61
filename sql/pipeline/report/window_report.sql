-- window_report: what one window produced, one row per (stage, subject).
select
    split_part(task_name, ':', 1) as stage,
    split_part(task_name, ':', 2) as subject,
    row_count
from storepipe.markers
where window_start = %(window_start)s

union all

select
    case action when 'rejected' then 'quarantined' else 'flagged' end as stage,
    source as subject,
    count(*) as row_count
from storepipe.quarantine
where window_start = %(window_start)s
group by action, source

union all

select
    'mart' as stage,
    'fct_orders (window)' as subject,
    count(*) as row_count
from analytics.fct_orders
where window_start = %(window_start)s

union all

select
    'mart' as stage,
    'dim_customers (customers changed in window)' as subject,
    count(distinct dim_customers.customer_id) as row_count
from analytics.dim_customers
inner join staging.stg_customers
    on dim_customers.customer_id = stg_customers.customer_id
where stg_customers.window_start = %(window_start)s

union all

select
    'mart' as stage,
    'dim_customers (all versions)' as subject,
    count(*) as row_count
from analytics.dim_customers
where customer_id <> -1
