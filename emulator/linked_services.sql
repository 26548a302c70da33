-- migration 3: the linked-service proxy's audit log.
    CREATE TABLE proxy_calls (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        service TEXT NOT NULL,
        method TEXT NOT NULL,
        path TEXT NOT NULL,
        status INTEGER NOT NULL,
        duration_ms REAL NOT NULL,
        caller TEXT NOT NULL
    );
