"""The store's fake sources, for `make run`, the tests and the docker demo: data generator and risk API app."""
