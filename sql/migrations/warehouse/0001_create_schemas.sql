-- Warehouse layout: store (loaded per window), staging and analytics (transforms),
-- storepipe (markers and quarantine: the pipeline's own bookkeeping).
create schema store;
create schema staging;
create schema analytics;
create schema storepipe;

-- A marker row says "this task, for this window, is done". It is written in the
-- same transaction as the task's data, so data and marker commit together.
create table storepipe.markers (
    task_name text not null,
    window_start timestamp not null,
    task_id text not null,
    row_count bigint not null,
    checksum text,
    object_key text,
    done_at timestamptz not null default now(),
    primary key (task_name, window_start)
);

create table storepipe.quarantine (
    quarantine_id bigint generated always as identity primary key,
    source text not null,
    window_start timestamp not null
    default current_setting('storepipe.window_start', true)::timestamp,
    location text not null,
    reason text not null,
    raw text,
    quarantined_at timestamptz not null default now()
);

create index quarantine_source_window_idx on storepipe.quarantine (source, window_start);

-- Loaded tables get window_start from the loading transaction's setting, so a
-- lake file streams into COPY unchanged and a missing setting fails the load.
create table store.customers (
    customer_id integer not null,
    first_name text,
    last_name text,
    state_code text,
    datetime_created timestamp not null,
    datetime_updated timestamp not null,
    window_start timestamp not null
    default current_setting('storepipe.window_start', true)::timestamp
);

create index store_customers_window_idx on store.customers (window_start);
create index store_customers_id_idx on store.customers (customer_id);

create table store.orders (
    order_id uuid not null,
    customer_id integer not null,
    item_id uuid not null,
    item_name text not null,
    delivered_on timestamp not null,
    window_start timestamp not null
    default current_setting('storepipe.window_start', true)::timestamp
);

create index store_orders_window_idx on store.orders (window_start);

create table store.customer_risk_score (
    customer_id integer not null,
    risk_score integer not null,
    assessed_at timestamp not null,
    window_start timestamp not null
    default current_setting('storepipe.window_start', true)::timestamp
);

create index store_risk_window_idx on store.customer_risk_score (window_start);
create index store_risk_customer_idx on store.customer_risk_score (customer_id);

create table store.states (
    state_code text primary key,
    state_name text not null
);
