-- The staged rows' column names, read from the cursor description (no rows are fetched).
select * from model_rows -- noqa: AM04
limit 0 -- noqa: AM09
