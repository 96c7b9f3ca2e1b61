-- analyze_markers: the statistics autovacuum keeps for a marker table that grew over a year; right
-- after one bulk insert the planner has none and picks a scan of the whole range.
analyze storepipe.markers
