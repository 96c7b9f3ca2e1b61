-- orders_partitioned_by_window: store.orders holds one partition per window. A load fills a fresh
-- table and swaps it in (drop the window's old partition, attach the new one), so replacing a
-- window costs in proportion to the window, never the table, and the load itself runs at COPY's
-- speed: no index to maintain, and window_start is a constant default, not a per-row setting.

-- The name of a window's partition of a store table: one definition, used here and by every load.
create function storepipe.window_partition_name(parent text, window_start timestamp)
returns text
language sql
immutable
return parent || '_' || to_char(window_start, 'YYYYMMDD"_"HH24MI');

alter table store.orders rename to orders_before_0008;

create table store.orders (
    order_id uuid not null,
    customer_id integer not null,
    item_id uuid not null,
    item_name text not null,
    delivered_on timestamp not null,
    window_start timestamp not null
) partition by list (window_start);

-- Windows loaded before this migration keep their rows, one partition each.
do $$
declare
    loaded timestamp;
    part text;
begin
    for loaded in select distinct window_start from store.orders_before_0008 loop
        part := storepipe.window_partition_name('orders', loaded);
        execute format(
            'create table store.%I partition of store.orders for values in (%L)', part, loaded
        );
        execute format(
            'insert into store.%I select order_id, customer_id, item_id, item_name, delivered_on, window_start'
            ' from store.orders_before_0008 where window_start = %L',
            part, loaded
        );
    end loop;
end
$$;

drop table store.orders_before_0008;
