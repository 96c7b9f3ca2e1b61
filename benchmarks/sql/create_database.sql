-- create_database: a fresh database for one run, copied from the migrated template
create database {database} template {template} owner {owner}
