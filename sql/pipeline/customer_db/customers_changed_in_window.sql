-- customers_changed_in_window: the latest version of every customer created or updated
-- in the window; grain customer_id. Half-open window, UTC.
select
    customer_id,
    first_name,
    last_name,
    state_code,
    datetime_created,
    datetime_updated
from customers
where
    datetime_updated >= %(window_start)s
    and datetime_updated < %(window_end)s
order by customer_id
