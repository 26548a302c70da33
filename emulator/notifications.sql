-- migration 9: the global features the mobile app uses, per user (with bookmarks): notifications, their settings and
-- the web push subscriptions the app registers. Users are ODS people (user_id is the person's id).
    CREATE TABLE notifications (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        type TEXT NOT NULL,
        title TEXT NOT NULL,
        message TEXT NOT NULL,
        sharedo_id TEXT,
        priority TEXT NOT NULL,
        created TEXT NOT NULL,
        dismissed INTEGER NOT NULL DEFAULT 0,
        event_number INTEGER,
        UNIQUE (user_id, event_number)
    );
    CREATE INDEX notifications_by_user ON notifications(user_id, created);
    CREATE TABLE notification_settings (
        user_id TEXT NOT NULL,
        type TEXT NOT NULL,
        channel TEXT NOT NULL,
        frequency INTEGER NOT NULL,
        PRIMARY KEY (user_id, type, channel)
    );
    CREATE TABLE web_push_subscriptions (
        user_id TEXT NOT NULL,
        endpoint TEXT NOT NULL,
        p256dh TEXT NOT NULL,
        auth TEXT NOT NULL,
        created TEXT NOT NULL,
        PRIMARY KEY (user_id, endpoint)
    );

-- migration 11: the work-item key has one name in every table, work_item_id (it was sharedo_id here).
    ALTER TABLE notifications RENAME COLUMN sharedo_id TO work_item_id;
