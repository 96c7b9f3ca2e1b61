-- vacuum_markers: the state autovacuum keeps a marker table in that grew over a year (statistics for
-- the planner, and a visibility map that lets counting markers read the index alone); right after
-- one bulk insert it has neither.
vacuum (analyze) storepipe.markers
