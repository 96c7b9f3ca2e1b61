-- A fresh table with the parent's columns for one window's rows (defined in migration 0008).
select storepipe.create_window_table(%(parent)s::regclass, %(fresh)s, %(window_start)s)
