-- Put the fresh table just filled in place of the window's rows, at the end of the transaction:
-- its own partition swapped in, or, in a rolled-up day, delete and insert inside the day's
-- partition (migration 0015). The parent's strong lock, if any, is taken last and held only until the commit.
select storepipe.swap_in_window(%(parent)s::regclass, %(fresh)s, %(window_start)s, %(window_end)s)
