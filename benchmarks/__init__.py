"""`make bench`: how close storepipe loads get to PostgreSQL's COPY limit, and at what memory (issue 7)."""
