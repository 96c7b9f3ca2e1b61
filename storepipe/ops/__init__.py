"""Operator workflows over many windows: backfill and status from the markers, the window report."""
