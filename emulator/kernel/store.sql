-- migration 1: the store's own: meta (loaded, the clock, the dispatcher's cursor) and named counters.
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
