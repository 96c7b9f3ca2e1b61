-- risk_scores_page: one page of the customers changed in [start, end), after a keyset
-- cursor; grain customer_id. One row more than the page tells whether another page follows.
select
    customer_id,
    datetime_updated as assessed_at
from customers
where
    datetime_updated >= %(start)s
    and datetime_updated < %(end)s
    and customer_id > %(after_customer_id)s
order by customer_id
limit %(limit)s + 1
