-- How many rows a check returns, with the first few of them (as text) to quote;
-- sorted, so the same defect always quotes the same samples.
select
    count(*) over () as failing_rows,
    offending::text as sample_row
from ({check}) as offending
order by sample_row
limit %(sample_size)s
