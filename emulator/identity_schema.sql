-- migration 1: issued tokens (sessions, not tenant state: never in a snapshot).
    CREATE TABLE tokens (
        token_hash TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        client_id TEXT NOT NULL,
        user_name TEXT,
        scope TEXT NOT NULL,
        expires_at TEXT NOT NULL
    );
