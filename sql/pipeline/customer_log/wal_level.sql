-- wal_level: the server's WAL level; change capture needs logical.
select current_setting('wal_level') as wal_level
