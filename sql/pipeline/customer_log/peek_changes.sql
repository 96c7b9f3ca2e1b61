-- peek_changes: the slot's committed changes after its confirmed position, as pgoutput protocol 1
-- messages in log order, whole transactions only, up to an LSN and/or a message count (null: no
-- bound). A peek does not move the slot; advance does, once the changes are landed.
select data
from
    pg_logical_slot_peek_binary_changes(
        %(slot)s,
        %(upto_lsn)s::pg_lsn,
        %(upto_nchanges)s::integer,
        'proto_version',
        '1',
        'publication_names',
        %(publication)s
    )
