-- set_max_slot_wal_keep_size: the most WAL a stalled slot may hold before it is given up;
-- applied by a reload.
alter system set max_slot_wal_keep_size = '1GB'
