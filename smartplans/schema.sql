-- migration 2: SmartPlan executions, their steps, step logs and the triggers plans create at run time.
    CREATE TABLE plan_executions (
        id TEXT PRIMARY KEY,
        plan TEXT NOT NULL,
        plan_title TEXT NOT NULL,
        plan_type TEXT NOT NULL,
        state TEXT NOT NULL,
        start_time TEXT NOT NULL,
        end_time TEXT,
        sharedo_id TEXT,
        trigger_id TEXT,
        event_number INTEGER,
        ev TEXT NOT NULL,
        ctx TEXT NOT NULL,
        last_error TEXT
    );
    CREATE INDEX plan_executions_state ON plan_executions(state);
    -- One execution per (trigger, event): a redelivered event (at-least-once) starts nothing twice.
    CREATE UNIQUE INDEX plan_executions_once ON plan_executions(trigger_id, event_number)
        WHERE trigger_id IS NOT NULL AND event_number IS NOT NULL;
    CREATE TABLE execution_steps (
        id TEXT PRIMARY KEY,
        execution_id TEXT NOT NULL REFERENCES plan_executions(id),
        seq INTEGER NOT NULL,
        step TEXT NOT NULL,
        state TEXT NOT NULL,
        due_at TEXT,
        started TEXT,
        ended TEXT,
        attempts INTEGER NOT NULL,
        error TEXT,
        recorded TEXT NOT NULL
    );
    CREATE INDEX execution_steps_execution ON execution_steps(execution_id, seq);
    CREATE TABLE step_logs (
        step_id TEXT NOT NULL REFERENCES execution_steps(id),
        seq INTEGER NOT NULL,
        log_time TEXT NOT NULL,
        log_level TEXT NOT NULL,
        log_message TEXT NOT NULL,
        PRIMARY KEY (step_id, seq)
    );
    CREATE TABLE runtime_triggers (
        id TEXT PRIMARY KEY,
        execution_id TEXT NOT NULL REFERENCES plan_executions(id),
        step_id TEXT NOT NULL REFERENCES execution_steps(id),
        sharedo_id TEXT NOT NULL,
        phase TEXT NOT NULL
    );

-- migration 5: a step's host calls as rows, one per call: recording call k writes one row, not the whole list.
    CREATE TABLE step_calls (
        step_id TEXT NOT NULL REFERENCES execution_steps(id),
        idx INTEGER NOT NULL,
        request TEXT NOT NULL,
        response TEXT NOT NULL,
        refetch INTEGER NOT NULL,
        PRIMARY KEY (step_id, idx)
    );
    INSERT INTO step_calls
        SELECT s.id, CAST(c.key AS INTEGER), json_extract(c.value, '$.request'), json_extract(c.value, '$.response'),
               COALESCE(json_extract(c.value, '$.refetch'), 0)
        FROM execution_steps s, json_each(s.recorded) c;
    CREATE TABLE execution_steps_new (
        id TEXT PRIMARY KEY,
        execution_id TEXT NOT NULL REFERENCES plan_executions(id),
        seq INTEGER NOT NULL,
        step TEXT NOT NULL,
        state TEXT NOT NULL,
        due_at TEXT,
        started TEXT,
        ended TEXT,
        attempts INTEGER NOT NULL,
        error TEXT
    );
    INSERT INTO execution_steps_new SELECT id, execution_id, seq, step, state, due_at, started, ended, attempts, error
        FROM execution_steps;
    DROP TABLE execution_steps;
    ALTER TABLE execution_steps_new RENAME TO execution_steps;
    CREATE INDEX execution_steps_execution ON execution_steps(execution_id, seq);

-- migration 11: the work-item key has one name in every table, work_item_id (it was sharedo_id here).
    ALTER TABLE plan_executions RENAME COLUMN sharedo_id TO work_item_id;
    ALTER TABLE runtime_triggers RENAME COLUMN sharedo_id TO work_item_id;

-- migration 12: what each step started with and what it left (its ctx in and out, the steps it scheduled, where
-- its last attempt's log lines begin), so an execution can be saved as a test and one of its steps rerun with
-- edited input; and, for a rerun, the run and the step it was made from.
    ALTER TABLE execution_steps ADD COLUMN ctx_in TEXT;
    ALTER TABLE execution_steps ADD COLUMN log_from INTEGER;
    ALTER TABLE execution_steps ADD COLUMN ctx_out TEXT;
    ALTER TABLE execution_steps ADD COLUMN triggers TEXT;
    ALTER TABLE plan_executions ADD COLUMN rerun_of TEXT;
    ALTER TABLE plan_executions ADD COLUMN rerun_step TEXT;
