-- unknown_member_has_no_customer_id: the unknown-customer member held customer_id -1, a value a
-- source customer may hold too; dim_customers replaces a customer's rows by customer_id, so such a
-- customer deleted the member and every later window with an unknown customer failed its audit.
-- The member now has no customer_id: null equals no source customer, so no replace can reach it.
alter table analytics.dim_customers alter column customer_id drop not null;

update analytics.dim_customers set customer_id = null
where customer_key = '00000000-0000-0000-0000-000000000000';

-- and where a customer -1 already replaced it, the member comes back
insert into analytics.dim_customers (
    customer_key, customer_id, first_name, last_name, state_code, state_name,
    risk_score, valid_from, valid_to, is_current
)
select
    '00000000-0000-0000-0000-000000000000'::uuid as customer_key,
    null::integer as customer_id,
    'unknown' as first_name,
    'unknown' as last_name,
    null::text as state_code,
    null::text as state_name,
    null::integer as risk_score,
    timestamptz '1900-01-01 00:00:00+00' as valid_from,
    timestamptz '9999-12-31 00:00:00+00' as valid_to,
    true as is_current
where not exists (
    select from analytics.dim_customers
    where customer_key = '00000000-0000-0000-0000-000000000000'
);
