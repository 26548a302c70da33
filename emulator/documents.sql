-- migration 6: related documents: one row per document; the bytes are files named by sha256 under <data-dir>/documents/.
    CREATE TABLE documents (
        id TEXT PRIMARY KEY,
        work_item_id TEXT NOT NULL REFERENCES work_items(id),
        folder TEXT NOT NULL,
        file_name TEXT NOT NULL,
        content_type TEXT NOT NULL,
        size INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        created_by TEXT,
        created TEXT NOT NULL
    );
    CREATE UNIQUE INDEX documents_path ON documents(work_item_id, folder COLLATE NOCASE, file_name COLLATE NOCASE);
    CREATE INDEX documents_sha256 ON documents(sha256);
