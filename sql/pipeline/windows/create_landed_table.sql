-- create_landed_table: a fresh window table for the segment an extract is landing, which a COPY of
-- the lake object's bytes fills as they are written (migration 0018); its name, or null when the
-- table is not partitioned by window. After a savepoint, so that the extract can drop the copy
-- (drop_landed_copy) and still commit what it landed (sqlfluff does not parse savepoints).
savepoint landed_copy; -- noqa: PRS
select storepipe.create_landed_table(%(parent)s::regclass, %(window_start)s, %(segment)s) as landed;
