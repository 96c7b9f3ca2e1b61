-- The name of the window's partition of a table (defined once, in migration 0008), and whether the
-- extract left a landed table holding the window's first segment (migration 0018; null segment: no).
select
    names.partition_name,
    names.landed_name,
    to_regclass(quote_ident(%(schema)s) || '.' || quote_ident(names.landed_name)) is not null as landed
from (
    select
        storepipe.window_partition_name(%(parent)s, %(window_start)s) as partition_name,
        storepipe.landed_table_name(%(parent)s, %(window_start)s, %(segment)s) as landed_name
) as names
