-- migration 1: work items, their attributes, participants and comments.
    CREATE TABLE work_items (
        id TEXT PRIMARY KEY,
        type TEXT NOT NULL,
        title TEXT NOT NULL,
        reference TEXT,
        description TEXT,
        phase TEXT NOT NULL,
        parent_id TEXT REFERENCES work_items(id),
        created TEXT NOT NULL,
        updated TEXT NOT NULL,
        body TEXT NOT NULL
    );
    CREATE INDEX work_items_parent ON work_items(parent_id);
    CREATE INDEX work_items_type ON work_items(type);
    CREATE TABLE attributes (
        work_item_id TEXT NOT NULL REFERENCES work_items(id),
        name TEXT NOT NULL,
        value TEXT,
        PRIMARY KEY (work_item_id, name)
    );
    CREATE TABLE participants (
        id TEXT PRIMARY KEY,
        work_item_id TEXT NOT NULL REFERENCES work_items(id),
        role TEXT NOT NULL,
        ods_id TEXT NOT NULL,
        created TEXT NOT NULL
    );
    CREATE INDEX participants_item ON participants(work_item_id);
    CREATE TABLE comments (
        id TEXT PRIMARY KEY,
        work_item_id TEXT NOT NULL REFERENCES work_items(id),
        comment TEXT NOT NULL,
        author TEXT,
        created TEXT NOT NULL
    );
    CREATE INDEX comments_item ON comments(work_item_id);

-- migration 10: a page of findByQuery costs about the same at 100 and 100,000 work items (emulator/query.py, the SQL
-- path): counted from the number of work items per (type, phase), which triggers keep (derived, so not in
-- snapshots), and cut from the sort order's index.
    CREATE TABLE work_item_counts (
        type TEXT NOT NULL, phase TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (type, phase)
    ) WITHOUT ROWID;
    INSERT INTO work_item_counts SELECT type, phase, COUNT(*) FROM work_items GROUP BY type, phase;
    CREATE TRIGGER work_items_counted AFTER INSERT ON work_items BEGIN
        INSERT INTO work_item_counts VALUES (NEW.type, NEW.phase, 1)
            ON CONFLICT (type, phase) DO UPDATE SET n = n + 1;
    END;
    CREATE TRIGGER work_items_uncounted AFTER DELETE ON work_items BEGIN
        UPDATE work_item_counts SET n = n - 1 WHERE type = OLD.type AND phase = OLD.phase;
    END;
    CREATE TRIGGER work_items_recounted AFTER UPDATE OF type, phase ON work_items BEGIN
        UPDATE work_item_counts SET n = n - 1 WHERE type = OLD.type AND phase = OLD.phase;
        INSERT INTO work_item_counts VALUES (NEW.type, NEW.phase, 1)
            ON CONFLICT (type, phase) DO UPDATE SET n = n + 1;
    END;
    CREATE INDEX work_items_lower_id ON work_items(lower(id));
    CREATE INDEX work_items_type_phase ON work_items(type, phase);
    CREATE INDEX work_items_created ON work_items(created, id);
    CREATE INDEX work_items_updated ON work_items(updated, id);
    CREATE INDEX work_items_title ON work_items(title, id);
    CREATE INDEX work_items_reference ON work_items(COALESCE(reference, ''), id);
