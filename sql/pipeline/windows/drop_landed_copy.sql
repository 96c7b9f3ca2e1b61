-- drop_landed_copy: the landed copy failed or does not match what the extract landed; its table goes
-- (create_landed_table's savepoint) and the load reads the lake instead.
rollback to savepoint landed_copy -- noqa: PRS
