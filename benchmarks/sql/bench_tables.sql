-- bench_tables: the tables the raw COPY and the original project's way load into: store.orders'
-- columns, defaults and not-null constraints, no index (the physical limit the ratios refer to)
create schema bench;

create table bench.raw_orders (like store.orders including defaults including constraints);

create table bench.original_orders (like store.orders including defaults including constraints);
