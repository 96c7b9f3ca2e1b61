"""One module per source system, each streaming one window's rows; sources are only ever read."""
