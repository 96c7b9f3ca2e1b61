-- stg_customers: state codes are among the 27 in store.states (unknown ones keep a null state_name).
-- severity: warn
select
    stg_customers.customer_id,
    stg_customers.state_code
from staging.stg_customers
left join store.states
    on stg_customers.state_code = states.state_code
where
    stg_customers.window_start = %(window_start)s
    and states.state_code is null
