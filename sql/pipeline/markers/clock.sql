-- clock: the warehouse's time, which stamps every marker's done_at (a forced rebuild compares with it).
select now() as now
