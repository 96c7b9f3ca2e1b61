-- partitioned_by_window: store.orders and staging.stg_orders (the tables that grow with the order
-- volume, and are only ever read one window at a time) hold one partition per window. A load or a
-- transform fills a fresh table and swaps it in (drop the window's old partition, attach the new
-- one), so replacing a window costs in proportion to the window, never the table, and writes at
-- COPY's speed: no index to maintain, window_start a constant default, not a per-row setting.

-- The name of a window's partition: one definition, used here and by every swap.
create function storepipe.window_partition_name(parent text, window_start timestamp)
returns text
language sql
immutable
return parent || '_' || to_char(window_start, 'YYYYMMDD"_"HH24MI');

-- A fresh, unattached table with the parent's columns, for one window's rows. Its columns come
-- from the catalog, not `like`, so building it takes no lock on the parent: two windows' swaps then
-- lock the parent only at their very end, one after the other, and never deadlock. The check
-- constraint proves the partition bound, so the attach skips its validating scan.
create function storepipe.create_window_table(parent regclass, fresh text, window_start timestamp)
returns void
language plpgsql
as $$
declare
    parent_schema text;
    columns text;
begin
    select pg_namespace.nspname into parent_schema
    from pg_class inner join pg_namespace on pg_class.relnamespace = pg_namespace.oid
    where pg_class.oid = parent;

    select string_agg(
        format('%I %s', attname, format_type(atttypid, atttypmod))
        || case when attnotnull then ' not null' else '' end
        || case
            when attname = 'window_start'
                then format(' default %L check (window_start = %L)', window_start, window_start)
            else ''
        end,
        ', ' order by attnum
    ) into columns
    from pg_attribute
    where attrelid = parent and attnum > 0 and not attisdropped;

    execute format('create table %I.%I (%s)', parent_schema, fresh, columns);
end;
$$;

-- Turn a table into one partitioned by window, one partition per window it already holds.
create function storepipe.partition_by_window(parent_schema text, parent text)
returns void
language plpgsql
as $$
declare
    old_name text := parent || '_before_partitioning';
    loaded timestamp;
    part text;
begin
    execute format('alter table %I.%I rename to %I', parent_schema, parent, old_name);
    execute format(
        'create table %I.%I (like %I.%I including defaults including constraints) partition by list (window_start)',
        parent_schema, parent, parent_schema, old_name
    );
    execute format('alter table %I.%I alter column window_start drop default', parent_schema, parent);
    for loaded in execute format('select distinct window_start from %I.%I', parent_schema, old_name) loop
        part := storepipe.window_partition_name(parent, loaded);
        execute format(
            'create table %I.%I partition of %I.%I for values in (%L)', parent_schema, part, parent_schema, parent, loaded
        );
        execute format(
            'insert into %I.%I select * from %I.%I where window_start = %L',
            parent_schema, part, parent_schema, old_name, loaded
        );
    end loop;
    execute format('drop table %I.%I', parent_schema, old_name);
end;
$$;

select storepipe.partition_by_window('store', 'orders');

select storepipe.partition_by_window('staging', 'stg_orders');
