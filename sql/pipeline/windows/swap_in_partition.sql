-- Replace the window's partition by the fresh table just filled, at the end of the transaction:
-- the parent's strong lock (for a re-run's drop) is taken last and held only until the commit.
drop table if exists {partition};

alter table {fresh} rename to {partition_name};

alter table {parent} attach partition {partition} for values in (%(window_start)s)
