-- The model's rows for this window, computed once and read twice (delete, insert).
create temporary table model_rows on commit drop as
{model}
