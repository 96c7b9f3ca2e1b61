-- How many rows a check returns, with the first few of them (as text) to quote.
select
    count(*) over () as failing_rows,
    offending::text as sample_row
from ({check}) as offending
limit %(sample_size)s
