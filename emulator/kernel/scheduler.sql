-- migration 1: timers (a cron job's next run is kept in memory).
    CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        due_at TEXT NOT NULL,
        payload TEXT NOT NULL
    );
    CREATE INDEX jobs_due ON jobs(due_at);
