-- record_late: a late object, re-opening its window or found too far back to.
insert into storepipe.late_objects (source, window_start, object_key, etag, action)
values (%(source)s, %(window_start)s, %(object_key)s, %(etag)s, %(action)s)
on conflict (source, window_start, object_key, etag) do nothing
