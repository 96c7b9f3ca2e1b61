-- A fresh table has no statistics until autovacuum comes by: the planner would guess that one row
-- in 200 is the window's (22k of 5M orders) and read them with plans made for a few, e.g. fct_orders
-- looking each order up by index instead of hashing. ANALYZE samples 30,000 rows, whatever the size.
analyze {table}
