-- table_columns: the columns each model's table has (to refuse a model that selects one it lacks).
select
    table_schema,
    table_name,
    column_name
from information_schema.columns
where table_schema = any(%(schemas)s)
