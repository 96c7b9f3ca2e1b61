-- Tables the transform models fill (sql/transforms). Each model's SELECT is
-- inserted by column name, so these define the published types.
create table staging.stg_customers (
    customer_id integer not null,
    first_name text,
    last_name text,
    state_code text,
    created_at timestamp not null,
    updated_at timestamp not null,
    window_start timestamp not null
);

create index stg_customers_window_idx on staging.stg_customers (window_start);
create index stg_customers_id_idx on staging.stg_customers (customer_id);

create table staging.stg_orders (
    order_id uuid not null,
    customer_id integer not null,
    item_id uuid not null,
    item_name text not null,
    delivered_at timestamp not null,
    window_start timestamp not null
);

create index stg_orders_window_idx on staging.stg_orders (window_start);
create index stg_orders_customer_idx on staging.stg_orders (customer_id);

create table staging.stg_customer_risk_score (
    customer_id integer not null,
    risk_score integer not null,
    assessed_at timestamp not null,
    window_start timestamp not null
);

create index stg_risk_window_idx on staging.stg_customer_risk_score (window_start);
create index stg_risk_customer_idx on staging.stg_customer_risk_score (customer_id);

create table analytics.dim_customers (
    customer_key uuid primary key,
    customer_id integer not null,
    first_name text,
    last_name text,
    state_code text,
    state_name text,
    risk_score integer,
    valid_from timestamp not null,
    valid_to timestamp not null,
    is_current boolean not null
);

create index dim_customers_id_idx on analytics.dim_customers (customer_id);

create table analytics.fct_orders (
    order_id uuid not null,
    customer_key uuid not null,
    customer_id integer not null,
    item_id uuid not null,
    item_name text not null,
    delivered_at timestamp not null,
    window_start timestamp not null
);

create index fct_orders_window_idx on analytics.fct_orders (window_start);
create index fct_orders_order_idx on analytics.fct_orders (order_id);
create index fct_orders_customer_idx on analytics.fct_orders (customer_id);

-- The "unknown customer" member: facts whose customer is not (yet) known point here.
insert into analytics.dim_customers (
    customer_key, customer_id, first_name, last_name, state_code, state_name,
    risk_score, valid_from, valid_to, is_current
) values (
    '00000000-0000-0000-0000-000000000000', -1, 'unknown', 'unknown', null, null,
    null, '1900-01-01', '9999-12-31', true
);
