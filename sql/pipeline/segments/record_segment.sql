-- record_segment: a lake segment of a window, in the extract's transaction (with its marker).
insert into storepipe.lake_segments (source, window_start, segment, data_key, rejects_key, row_count, checksum)
values (%(source)s, %(window_start)s, %(segment)s, %(data_key)s, %(rejects_key)s, %(row_count)s, %(checksum)s)
on conflict (source, window_start, segment) do nothing
