-- forget_windows: a forced backfill drops every marker of the windows %(starts)s (in one transaction)
-- so each of their tasks runs again and replaces its rows.
delete from storepipe.markers
where window_start = any(%(starts)s)
