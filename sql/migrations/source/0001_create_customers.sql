-- customers: the store's application table, one row per customer holding its latest version.
-- The pipeline only reads it (as a read-only role); the data generator writes it.
create table customers (
    customer_id integer primary key,
    first_name text,
    last_name text,
    state_code text,
    datetime_created timestamp not null,
    datetime_updated timestamp not null
);

-- extraction reads one window of changes at a time
create index customers_datetime_updated_idx on customers (datetime_updated);
