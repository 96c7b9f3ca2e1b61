-- create_database_luigi_history: luigid's task history (its tables come from luigi's own create_all).
create database luigi_history owner sde
