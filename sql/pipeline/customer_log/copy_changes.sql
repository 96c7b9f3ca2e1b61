-- copy_changes: the slot's committed changes after its confirmed position, as pgoutput protocol 1
-- messages in log order, whole transactions only, up to an LSN and/or a message count (null: no
-- bound), one bytea row per message in a binary COPY (no text escaping of the bytes; spelled
-- `with binary`, the older form, which sqlfluff parses). A peek does not move the slot; advance
-- does, once the changes are landed.
copy (
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
) to stdout with binary
