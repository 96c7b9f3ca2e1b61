-- capture_server_count: the server decoding the slot's changes with pgoutput and only counting them.
select count(*)
from pg_logical_slot_get_binary_changes(
    %(slot)s, null, null, 'proto_version', '1', 'publication_names', %(publication)s
)
