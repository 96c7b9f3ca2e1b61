-- One check's part of a window's audit (each in brackets, they are unioned into one statement): its
-- name, how many rows it returns and the first few of them (as text) to quote; sorted, so the same
-- defect always quotes the same samples, in the server's order (sample_rank).
-- (the next line only gives sqlfluff a value to parse where the name goes)
-- sqlfluff:templater:placeholder:check_name:'a_check'
select
    {check_name} as check_name,
    count(*) over () as failing_rows,
    offending::text as sample_row,
    row_number() over (order by offending::text) as sample_rank
from ({check}) as offending
order by sample_row
limit %(sample_size)s
