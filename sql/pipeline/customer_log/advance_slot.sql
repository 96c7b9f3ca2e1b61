-- advance_slot: confirm every change before upto_lsn, so the server may recycle its WAL.
select end_lsn::text as confirmed_flush_lsn
from pg_replication_slot_advance(%(slot)s, %(upto_lsn)s::pg_lsn)
