"""The lake: the immutable raw copy of each window (objects), and landing a source's rows in it."""
