-- record_object: one source object read into a segment.
insert into storepipe.extracted_objects (source, window_start, object_key, etag, object_size, segment)
values (%(source)s, %(window_start)s, %(object_key)s, %(etag)s, %(object_size)s, %(segment)s)
on conflict (source, window_start, object_key, etag) do nothing
