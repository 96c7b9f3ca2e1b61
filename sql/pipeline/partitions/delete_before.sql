-- Retention: the rows of windows before the cut-off, in a table that is not partitioned.
delete from {target}
where window_start < %(cutoff)s
