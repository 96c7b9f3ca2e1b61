-- bench_tables: the tables the raw COPY, the server-side COPY, the floor and the original project's
-- way load into. raw_orders is exactly the window partition a LoadOrders swaps into store.orders (its
-- columns, not-null constraints and the window's start as a constant default), with no index: the
-- physical limit the ratios refer to. floor_orders is analytics.fct_orders' shape with all its
-- indexes (copied from the migrated table, so it follows the migrations): what the floor writes.
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

create table bench.floor_orders (like analytics.fct_orders including all);
