"""The warehouse: connections and locks, replacing a window's rows, markers, quarantine, failures, migrations."""
