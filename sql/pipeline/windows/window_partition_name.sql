-- The name of the window's partition of a table (defined once, in migration 0008).
select storepipe.window_partition_name(%(parent)s, %(window_start)s) as partition_name
