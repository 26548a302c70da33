-- migration 4: time entries (the public time v2 API).
    CREATE TABLE time_entries (
        id TEXT PRIMARY KEY,
        sharedo_id TEXT NOT NULL REFERENCES work_items(id),
        ods_id TEXT NOT NULL,
        state TEXT NOT NULL,
        category TEXT NOT NULL,
        start_time TEXT,
        end_time TEXT,
        duration_seconds INTEGER NOT NULL,
        billing_notes TEXT,
        segments TEXT NOT NULL,
        created_by TEXT,
        created TEXT NOT NULL,
        updated TEXT NOT NULL
    );
    CREATE INDEX time_entries_sharedo ON time_entries(sharedo_id);
