-- Statistics for a table that has none (a fresh window table; a mart before its first autovacuum):
-- without them the planner guesses that one row in 200 is the window's (22k of 5M orders) and picks
-- plans made for a few (fct_orders' orders looked up one by one, its checks read without parallel
-- workers). A sample of 3,000 rows (statistics target 10, until the transaction ends) is enough to
-- plan the window's statements and costs 12 ms at 1M rows, against 70-90 ms for the default 30,000;
-- autovacuum analyzes the table again later with the server's target.
set local default_statistics_target = 10;
analyze {table}
