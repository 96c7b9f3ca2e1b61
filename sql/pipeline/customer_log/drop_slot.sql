-- drop_slot: forget the slot (a reset takes a new snapshot after it; tests drop their own).
select pg_drop_replication_slot(slot_name)
from pg_replication_slots
where slot_name = %(slot)s
