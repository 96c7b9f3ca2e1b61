-- wal_position: the server's clock, then its current WAL position. Every change that committed
-- before that time has its commit record before that position (but for a commit in flight at
-- that very instant, which the window's grace covers), so a read up to it sees them all.
select
    clock_timestamp() at time zone 'UTC' as read_until,
    pg_current_wal_lsn()::text as wal_lsn
