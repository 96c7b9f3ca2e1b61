-- bench_tables: the tables the raw COPY and the original project's way load into. Each is exactly
-- the window partition a LoadOrders swaps into store.orders (its columns, not-null constraints and
-- the window's start as a constant default), with no index: the physical limit the ratios refer to.
create schema bench;

create table bench.raw_orders (
    order_id uuid not null,
    customer_id integer not null,
    item_id uuid not null,
    item_name text not null,
    delivered_on timestamp not null,
    window_start timestamp not null default %(window_start)s
);

create table bench.original_orders (like bench.raw_orders including defaults including constraints);
