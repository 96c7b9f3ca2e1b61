-- set_snapshot: read as of the slot's exported snapshot, so the rows and the log meet exactly.
-- (sqlfluff's postgres dialect has no grammar for SET TRANSACTION SNAPSHOT, hence the noqa)
set transaction snapshot %(snapshot)s  -- noqa: PRS
