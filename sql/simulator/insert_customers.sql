-- insert_customers: the batch's new customers; a re-run finds them present and skips them.
insert into customers (
    customer_id,
    first_name,
    last_name,
    state_code,
    datetime_created,
    datetime_updated
)
select
    new_customer.customer_id,
    new_customer.first_name,
    new_customer.last_name,
    new_customer.state_code,
    new_customer.datetime_created,
    new_customer.datetime_created as datetime_updated
from
    unnest(
        %(customer_ids)s::integer[],
        %(first_names)s::text[],
        %(last_names)s::text[],
        %(state_codes)s::text[],
        %(created)s::timestamp[]
    ) as new_customer (customer_id, first_name, last_name, state_code, datetime_created)
on conflict (customer_id) do nothing
