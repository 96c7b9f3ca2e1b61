-- create_database_source: the store's application database (the pipeline's customer DB).
create database source
