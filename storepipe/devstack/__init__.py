"""The embedded dev stack for `make run` and the tests: PostgreSQL, S3 (moto), the risk API and luigid."""
