-- migration 1: the business event stream and the events a subscriber failed on.
    CREATE TABLE events (
        number INTEGER PRIMARY KEY,
        event_type TEXT NOT NULL,
        occurred_at TEXT NOT NULL,
        sharedo_id TEXT,
        data TEXT NOT NULL
    );
    CREATE INDEX events_sharedo ON events(sharedo_id);
    CREATE TABLE dead_letters (
        event_number INTEGER NOT NULL,
        subscriber TEXT NOT NULL,
        error TEXT NOT NULL,
        failed_at TEXT NOT NULL
    );

-- migration 11: the work-item key has one name in every table, work_item_id (it was sharedo_id here), and its
-- index the name that goes with it.
    ALTER TABLE events RENAME COLUMN sharedo_id TO work_item_id;
    DROP INDEX events_sharedo;
    CREATE INDEX events_work_item ON events(work_item_id);
