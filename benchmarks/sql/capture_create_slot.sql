-- capture_create_slot: a pgoutput slot for the server's own decoding rate (no snapshot needed).
select pg_create_logical_replication_slot(%(slot)s, 'pgoutput')
