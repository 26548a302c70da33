-- migration 7: integrations with a practice management system (Clio Manage first), with the outbox of the same version.
    CREATE TABLE integrations (
        provider TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        region TEXT,
        remote_user TEXT,
        remote_user_email TEXT,
        firm TEXT,
        connected_at TEXT,
        connected_by TEXT,
        message TEXT,
        nightly INTEGER NOT NULL DEFAULT 0,
        first_sync_at TEXT,
        last_sync_at TEXT
    );
    CREATE TABLE integration_secrets (
        provider TEXT PRIMARY KEY,
        access_token TEXT NOT NULL,
        refresh_token TEXT NOT NULL,
        expires_at TEXT
    );
    CREATE TABLE integration_oauth_states (
        state TEXT PRIMARY KEY,
        provider TEXT NOT NULL,
        user_id TEXT,
        return_to TEXT,
        created TEXT NOT NULL
    );
    CREATE TABLE clio_practice_areas (clio_name TEXT PRIMARY KEY, work_type TEXT NOT NULL);
    CREATE TABLE clio_stages (clio_name TEXT PRIMARY KEY, phase TEXT NOT NULL);
    CREATE TABLE clio_matters (
        clio_id INTEGER PRIMARY KEY,
        work_item_id TEXT NOT NULL UNIQUE REFERENCES work_items(id),
        display_number TEXT,
        etag TEXT,
        stage TEXT,
        synced TEXT NOT NULL
    );
    CREATE TABLE clio_sync_runs (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        state TEXT NOT NULL,
        triggered_by TEXT,
        started TEXT NOT NULL,
        finished TEXT,
        window_from TEXT,
        first INTEGER NOT NULL,
        last_clio_id INTEGER,
        error TEXT
    );
    CREATE TABLE clio_sync_results (
        run_id TEXT NOT NULL REFERENCES clio_sync_runs(id),
        clio_id INTEGER NOT NULL,
        display_number TEXT,
        result TEXT NOT NULL,
        reason TEXT,
        work_item_id TEXT,
        at TEXT NOT NULL,
        PRIMARY KEY (run_id, clio_id)
    );
    CREATE TABLE clio_pushes (
        kind TEXT NOT NULL,
        source_id TEXT NOT NULL,
        clio_matter_id INTEGER NOT NULL,
        clio_id INTEGER,
        step TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        updated TEXT NOT NULL,
        PRIMARY KEY (kind, source_id)
    );
