-- drop_database: a run's database, with any session still on it
drop database if exists {database} with (force)
