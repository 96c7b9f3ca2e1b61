-- floor_facts: what the floor wrote for the window: its facts, and how many found no customer version
-- (none should: every order's customer is in dim_customers from the window's start)
select
    count(*) as facts,
    count(*) filter (where customer_key = '00000000-0000-0000-0000-000000000000'::uuid) as unknown_customers
from bench.floor_orders
where window_start = %(window_start)s
