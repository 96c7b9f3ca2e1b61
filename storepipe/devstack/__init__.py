"""The local dev stack: embedded servers, a source-data generator and the risk-score service."""
