-- create_database_warehouse: the warehouse, owned by sde so its migrations create sde's schemas.
create database warehouse owner sde
