-- Appenders to the audit chain now take turns on a lock (PostgreSQL's
-- advisory transaction lock, SQLite's write lock) and read the last event
-- itself: the head row of 00019, updated twice per event, slowed a
-- transaction appending thousands of events.
DROP TABLE audit_head;
