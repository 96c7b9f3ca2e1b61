-- landed_window_tables: an extract that lands a window's first segment of orders in the lake also
-- copies the same bytes, as they are written, into a fresh window table in the warehouse (issue 18):
-- the warehouse's COPY runs on the second core while the extract validates, instead of after it.
-- The load then swaps that table in, as it swaps in the table it fills itself, and reads the lake
-- only for what is not in it. The table commits with the extract's marker or not at all.

-- The name of the table holding one landed segment of a window: the window's partition name, then
-- the segment's (16 hex digits, from the objects it holds).
create function storepipe.landed_table_name(parent text, window_start timestamp, segment text)
returns text
language sql
immutable
return storepipe.window_partition_name(parent, window_start) || '_landed_' || segment;

-- A fresh window table (storepipe.create_window_table) for a segment's rows; returns its name, or
-- null if `parent` is not partitioned by window (its loads delete and insert: nothing to swap in).
-- A table left by the same segment's earlier extract is replaced: only a table created in the
-- caller's (sub)transaction can be filled by COPY ... FREEZE.
create function storepipe.create_landed_table(parent regclass, window_start timestamp, segment text)
returns text
language plpgsql
as $$
declare
    parent_schema text;
    landed text;
begin
    if not exists (select from pg_catalog.pg_partitioned_table where partrelid = parent) then
        return null;
    end if;
    select pg_namespace.nspname, storepipe.landed_table_name(pg_class.relname, window_start, segment)
    into parent_schema, landed
    from pg_class inner join pg_namespace on pg_class.relnamespace = pg_namespace.oid
    where pg_class.oid = parent;
    execute format('drop table if exists %I.%I', parent_schema, landed);
    perform storepipe.create_window_table(parent, landed, window_start);
    return landed;
end;
$$;

-- Retention drops a day's landed tables with its partitions: a window extracted and never loaded
-- leaves one behind.
create or replace function storepipe.drop_day(parent regclass, day date)
returns integer
language plpgsql
as $$
declare
    parent_schema text;
    parent_name text;
    part text;
    dropped integer := 0;
begin
    select pg_namespace.nspname, pg_class.relname into parent_schema, parent_name
    from pg_class inner join pg_namespace on pg_class.relnamespace = pg_namespace.oid
    where pg_class.oid = parent;
    perform storepipe.lock_day(parent_name, day);
    execute format('lock table only %s in access exclusive mode', parent);
    for part in
        select child.relname
        from pg_inherits inner join pg_class as child on pg_inherits.inhrelid = child.oid
        where
            pg_inherits.inhparent = parent
            and (
                child.relname = storepipe.day_partition_name(parent_name, day)
                or child.relname like storepipe.day_partition_name(parent_name, day) || '\_____'
            )
    loop
        execute format('drop table %I.%I', parent_schema, part);
        dropped := dropped + 1;
    end loop;
    for part in
        select pg_class.relname
        from pg_class inner join pg_namespace on pg_class.relnamespace = pg_namespace.oid
        where
            pg_namespace.nspname = parent_schema
            and pg_class.relkind = 'r'
            and pg_class.relname like storepipe.day_partition_name(parent_name, day) || '\_____\_landed\_%'
    loop
        execute format('drop table %I.%I', parent_schema, part);
    end loop;
    return dropped;
end;
$$;
