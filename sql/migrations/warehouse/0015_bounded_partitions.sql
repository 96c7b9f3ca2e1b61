-- bounded_partitions: a closed day's window partitions of store.orders and staging.stg_orders are
-- rolled into one partition for the whole day (storepipe.roll_up_day, run by the cron path), and a
-- window inside a rolled-up day is replaced by delete and insert inside that day's partition
-- (storepipe.swap_in_window). A statement that cannot prune then locks a few hundred partitions,
-- not one per window since the first load: with default lock settings `select count(*)`,
-- Metabase's sync and pg_dump keep working (docs/scaling.md).
--
-- The two tables become partitioned by range, not by list: a day's partition is then bounded by two
-- values, not by its 288 windows, and the partition bounds PostgreSQL rebuilds after every attach
-- or drop (and reads in every new session) stay small however many days are kept.

-- The name of a rolled-up day's partition: one definition, used by the roll-up and every swap.
create function storepipe.day_partition_name(parent text, day date)
returns text
language sql
immutable
return parent || '_' || to_char(day, 'YYYYMMDD');

-- Serialize what changes where one day's windows of `parent` live (a swap, the day's roll-up, its
-- retention drop) without holding the parent: a roll-up copying a big day keeps out only swaps
-- into that day, never today's loads. Taken before any lock on the parent, by all three.
create function storepipe.lock_day(parent_name text, day date)
returns void
language sql
volatile
begin atomic
    select pg_advisory_xact_lock(hashtextextended(storepipe.day_partition_name(parent_name, day), 0));
end;

-- The parent's columns as a column list (no dropped ones), for a table that becomes its partition.
-- Read from the catalog, not `like`, so building it takes no lock on the parent.
create function storepipe.parent_columns(parent regclass, window_start_clause text)
returns text
language sql
stable
return (
    select
        string_agg(
            format('%I %s', attname, format_type(atttypid, atttypmod))
            || case when attnotnull then ' not null' else '' end
            || case when attname = 'window_start' then ' ' || window_start_clause else '' end,
            ', ' order by attnum
        )
    from pg_attribute
    where attrelid = parent and attnum > 0 and not attisdropped
);

-- 0008's fresh window table, now built from the one column list above.
create or replace function storepipe.create_window_table(parent regclass, fresh text, window_start timestamp)
returns void
language plpgsql
as $$
begin
    execute format(
        'create table %I.%I (%s)',
        (
            select pg_namespace.nspname
            from pg_class inner join pg_namespace on pg_class.relnamespace = pg_namespace.oid
            where pg_class.oid = parent
        ),
        fresh,
        storepipe.parent_columns(
            parent, format('default %L check (window_start = %L)', window_start, window_start)
        )
    );
end;
$$;

-- Put a filled fresh table in place of the window's rows of `parent`, at the end of the caller's
-- transaction. The day's lock comes first, so a roll-up of the same day cannot slip between
-- deciding where the window lives and replacing it there. In a rolled-up day
-- the window's rows are deleted from the day's partition and the fresh rows inserted: the cost of
-- the window (the day's partition has an index on window_start), not of the day.
create function storepipe.swap_in_window(
    parent regclass, fresh text, window_start timestamp, window_end timestamp
)
returns void
language plpgsql
as $$
declare
    parent_schema text;
    parent_name text;
    own text;
    day_part regclass;
begin
    select pg_namespace.nspname, pg_class.relname into parent_schema, parent_name
    from pg_class inner join pg_namespace on pg_class.relnamespace = pg_namespace.oid
    where pg_class.oid = parent;
    own := storepipe.window_partition_name(parent_name, window_start);
    perform storepipe.lock_day(parent_name, window_start::date);
    -- a table lock taken after it makes this session see the catalog as the day's last holder left
    -- it (`only`: LOCK TABLE on a parent would lock every partition too)
    execute format('lock table only %s in access share mode', parent);
    day_part := to_regclass(
        format('%I.%I', parent_schema, storepipe.day_partition_name(parent_name, window_start::date))
    );
    if day_part is not null then
        execute format('delete from %s where window_start = %L', day_part, window_start);
        execute format('insert into %s select * from %I.%I', day_part, parent_schema, fresh);
        execute format('drop table %I.%I', parent_schema, fresh);
        return;
    end if;
    -- the drop takes the parent's strong lock (a re-run only), held until the caller commits
    execute format('drop table if exists %I.%I', parent_schema, own);
    execute format('alter table %I.%I rename to %I', parent_schema, fresh, own);
    execute format(
        'alter table %s attach partition %I.%I for values from (%L) to (%L)',
        parent, parent_schema, own, window_start, window_end
    );
end;
$$;

-- Roll one day's window partitions of `parent` into one partition for the day; returns how many
-- window partitions it replaced (0: nothing to do). The rows are copied while readers and loads of
-- other days go on (the day's lock keeps only swaps into this day out); the parent's access
-- exclusive lock is taken last, for the drops and the attach. A check constraint equal to the
-- day's bound spares the attach its validating scan.
create function storepipe.roll_up_day(parent regclass, day date)
returns integer
language plpgsql
as $$
declare
    parent_schema text;
    parent_name text;
    day_name text;
    part text;
    rolled text [] := '{}';
begin
    select pg_namespace.nspname, pg_class.relname into parent_schema, parent_name
    from pg_class inner join pg_namespace on pg_class.relnamespace = pg_namespace.oid
    where pg_class.oid = parent;
    day_name := storepipe.day_partition_name(parent_name, day);
    perform storepipe.lock_day(parent_name, day);
    execute format('lock table only %s in access share mode', parent);
    if to_regclass(format('%I.%I', parent_schema, day_name)) is not null then
        return 0;
    end if;
    rolled := array(
        select child.relname
        from pg_inherits inner join pg_class as child on pg_inherits.inhrelid = child.oid
        where pg_inherits.inhparent = parent and child.relname like day_name || '\_____'
        order by child.relname
    );
    if cardinality(rolled) = 0 then
        return 0;
    end if;
    execute format(
        'create table %I.%I (%s)',
        parent_schema,
        day_name,
        storepipe.parent_columns(
            parent, format('check (window_start >= %L and window_start < %L)', day, day + 1)
        )
    );
    foreach part in array rolled loop
        execute format('insert into %I.%I select * from %I.%I', parent_schema, day_name, parent_schema, part);
    end loop;
    -- a re-run of one of the day's windows deletes by window_start
    execute format('create index on %I.%I (window_start)', parent_schema, day_name);
    execute format('lock table only %s in access exclusive mode', parent);
    foreach part in array rolled loop
        execute format('drop table %I.%I', parent_schema, part);
    end loop;
    execute format(
        'alter table %s attach partition %I.%I for values from (%L) to (%L)',
        parent, parent_schema, day_name, day::timestamp, (day + 1)::timestamp
    );
    return cardinality(rolled);
end;
$$;

-- Retention: drop every partition of `parent` holding a window of `day` (its rolled-up partition,
-- or window partitions not rolled up yet); returns how many it dropped.
create function storepipe.drop_day(parent regclass, day date)
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
    return dropped;
end;
$$;

-- Re-partition a table by range of window_start, keeping its window partitions. A window
-- partition's bound becomes [its start, start + 1 minute), the shortest window the grid allows; its
-- rows all have that start, and a re-run swaps in [start, end). Its start is read from its name
-- (0008's storepipe.window_partition_name), since an empty window's partition has no row to read.
create function storepipe.partition_by_range(parent_schema text, parent text)
returns void
language plpgsql
as $$
declare
    old_name text := parent || '_by_list';
    part text;
    stamp text;
    starts timestamp;
begin
    execute format('alter table %I.%I rename to %I', parent_schema, parent, old_name);
    execute format(
        'create table %I.%I (like %I.%I including defaults including constraints) partition by range (window_start)',
        parent_schema, parent, parent_schema, old_name
    );
    for part in
        select child.relname
        from pg_inherits inner join pg_class as child on pg_inherits.inhrelid = child.oid
        where pg_inherits.inhparent = format('%I.%I', parent_schema, old_name)::regclass
        order by child.relname
    loop
        stamp := substring(part from '_(\d{8}_\d{4})$');
        starts := to_date(left(stamp, 8), 'YYYYMMDD') + make_time(substr(stamp, 10, 2)::int, substr(stamp, 12, 2)::int, 0);
        execute format('alter table %I.%I detach partition %I.%I', parent_schema, old_name, parent_schema, part);
        execute format(
            'alter table %I.%I attach partition %I.%I for values from (%L) to (%L)',
            parent_schema, parent, parent_schema, part, starts, starts + interval '1 minute'
        );
    end loop;
    execute format('drop table %I.%I', parent_schema, old_name);
end;
$$;

select storepipe.partition_by_range('store', 'orders');

select storepipe.partition_by_range('staging', 'stg_orders');
