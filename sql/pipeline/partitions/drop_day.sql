-- Retention: drop the partitions holding a day's windows (migration 0015); returns how many.
select storepipe.drop_day(%(partitioned)s::regclass, %(day)s) as dropped
