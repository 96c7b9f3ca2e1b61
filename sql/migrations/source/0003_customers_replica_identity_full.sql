-- customers_replica_identity_full: an update's log record carries the row's old image, so a
-- TOASTed value the update left unchanged (which pgoutput sends as "unchanged", without the value)
-- is known from the change itself, even when the customer's previous change was captured long
-- before. Costs WAL on updates of customers (about +50% measured here on an update-only load); the
-- capture keeps deletes to their key.
alter table customers replica identity full;
