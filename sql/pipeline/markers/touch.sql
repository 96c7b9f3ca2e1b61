-- A forced re-run replaces its marker, in the same transaction as its data.
insert into storepipe.markers (task_name, window_start, task_id, row_count, checksum, object_key)
values (%(task_name)s, %(window_start)s, %(task_id)s, %(row_count)s, %(checksum)s, %(object_key)s)
on conflict (task_name, window_start) do update set
    task_id = excluded.task_id,
    row_count = excluded.row_count,
    checksum = excluded.checksum,
    object_key = excluded.object_key,
    done_at = now()
