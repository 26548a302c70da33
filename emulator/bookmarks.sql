-- migration 9: the global features the mobile app uses, per user (with notifications): bookmarks. Users are ODS
-- people (user_id is the person's id).
    CREATE TABLE bookmarks (
        user_id TEXT NOT NULL,
        work_item_id TEXT NOT NULL,
        created TEXT NOT NULL,
        PRIMARY KEY (user_id, work_item_id)
    );
