-- create_database_luigi_history: luigid's task history, owned by its own role (its tables come
-- from luigi's own create_all); the pipeline role has no access to it, nor luigid to the warehouse.
create database luigi_history owner storepipe_luigid
