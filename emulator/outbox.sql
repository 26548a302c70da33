-- migration 7: mail (the outbox), with the integrations of the same version.
    CREATE TABLE outbox (
        id TEXT PRIMARY KEY,
        created TEXT NOT NULL,
        kind TEXT NOT NULL,
        sender TEXT NOT NULL,
        recipients TEXT NOT NULL,
        subject TEXT NOT NULL,
        body TEXT NOT NULL,
        work_item_id TEXT,
        delivery TEXT NOT NULL,
        delivery_error TEXT,
        delivered TEXT
    );
    CREATE INDEX outbox_created ON outbox(created, id);
    CREATE TABLE outbox_attachments (
        id TEXT PRIMARY KEY,
        message_id TEXT NOT NULL REFERENCES outbox(id),
        file_name TEXT NOT NULL,
        content_type TEXT NOT NULL,
        content TEXT NOT NULL
    );
    CREATE INDEX outbox_attachments_message ON outbox_attachments(message_id);
