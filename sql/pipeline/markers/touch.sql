-- A forced re-run replaces its marker, in the same transaction as its data; `version` is the
-- fingerprint of the SQL that built it (transforms and publish; null for extracts and loads).
insert into storepipe.markers (task_name, window_start, task_id, row_count, checksum, object_key, version)
values (%(task_name)s, %(window_start)s, %(task_id)s, %(row_count)s, %(checksum)s, %(object_key)s, %(version)s)
on conflict (task_name, window_start) do update set
    task_id = excluded.task_id,
    row_count = excluded.row_count,
    checksum = excluded.checksum,
    object_key = excluded.object_key,
    version = excluded.version,
    done_at = now()
