-- capture_seed: the customers the capture benchmark updates, ids first_id .. first_id + customers - 1
-- (ids no other case uses, so the capture never changes the customers a timed window reads).
insert into customers (customer_id, first_name, last_name, state_code, datetime_created, datetime_updated)
select
    n,
    'Cliente ' || n,
    'Bench',
    'SP',
    timestamp '2024-01-01 10:00',
    timestamp '2024-01-01 10:00'
from generate_series(%(first_id)s, %(first_id)s + %(customers)s - 1) as n
on conflict (customer_id) do nothing
