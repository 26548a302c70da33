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

-- migration 11: the work-item key has one name in every table, work_item_id (it was sharedo_id here), and its
-- index the name that goes with it.
    ALTER TABLE time_entries RENAME COLUMN sharedo_id TO work_item_id;
    DROP INDEX time_entries_sharedo;
    CREATE INDEX time_entries_work_item ON time_entries(work_item_id);
