-- customers_publication: the customers table's changes, for the pipeline's logical replication
-- slot (pgoutput). Owned by the application's migrations, not the pipeline (design invariant 9);
-- it must exist before the slot is created, or decoding fails until the slot passes this point.
create publication storepipe_customers for table customers;
