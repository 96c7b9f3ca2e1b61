-- slot_state: one replication slot as change capture sees it; no row when it does not exist.
-- wal_status 'lost' (or a null restart_lsn) means its WAL is gone: only a new snapshot recovers.
select
    plugin,
    wal_status,
    restart_lsn is null as is_invalidated,
    confirmed_flush_lsn::text as confirmed_flush_lsn,
    pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint as lag_bytes
from pg_replication_slots
where slot_name = %(slot)s
