-- Statistics for a table that has none (a fresh window table; a mart before its first autovacuum):
-- without them the planner guesses that one row in 200 is the window's (22k of 5M orders) and picks
-- plans made for a few (fct_orders' orders looked up one by one, its checks read without parallel
-- workers). ANALYZE samples 30,000 rows, whatever the size: 0.15 s at 5M.
analyze {table}
