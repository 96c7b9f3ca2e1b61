-- count_all: rows a case left in its table
select count(*) as loaded
from {table}
