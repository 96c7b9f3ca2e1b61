-- set_wal_level: logical decoding for change capture; takes effect at the next restart, and
-- must stay: a server with a logical slot refuses to start below it.
alter system set wal_level = 'logical'
