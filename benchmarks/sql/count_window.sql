-- count_window: rows a case left in its table for the window (each case is checked, not trusted)
select count(*) as loaded
from {table}
where window_start = %(window_start)s
