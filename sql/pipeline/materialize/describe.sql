-- The columns a model returns, without computing a row (for `storepipe sql show`).
select * from ({model}) as model_rows -- noqa: AM04
limit 0 -- noqa: AM09
