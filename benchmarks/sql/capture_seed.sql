-- capture_seed: the customers the capture benchmark updates, ids 1..customers.
insert into customers (customer_id, first_name, last_name, state_code, datetime_created, datetime_updated)
select
    n,
    'Cliente ' || n,
    'Bench',
    'SP',
    timestamp '2024-01-01 10:00',
    timestamp '2024-01-01 10:00'
from generate_series(1, %(customers)s) as n
on conflict (customer_id) do nothing
