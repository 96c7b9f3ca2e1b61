-- Roll a closed day's window partitions into one partition (migration 0015); returns how many it replaced.
select storepipe.roll_up_day(%(partitioned)s::regclass, %(day)s) as rolled
