-- rows_loaded: the rows each load's markers recorded, summed over every window the warehouse
-- holds; grain task_name (one of %(task_names)s).
-- (the next line only gives sqlfluff a value to parse where the names parameter goes)
-- sqlfluff:templater:placeholder:task_names:array[current_user]
select
    task_name,
    sum(row_count) as row_count
from storepipe.markers
where task_name = any(%(task_names)s)
group by task_name
order by task_name
