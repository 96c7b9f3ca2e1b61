-- risk_scores_page: one page of the customers changed in [range_start, range_end), after a
-- keyset cursor; grain customer_id. One row more than the page says whether another follows.
select
    customer_id,
    datetime_updated as assessed_at
from customers
where
    datetime_updated >= %(range_start)s
    and datetime_updated < %(range_end)s
    and customer_id > %(after_customer_id)s
order by customer_id
limit %(page_size)s + 1
