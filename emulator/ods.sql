-- migration 1: ODS people and organisations.
    CREATE TABLE ods (id TEXT PRIMARY KEY, kind TEXT NOT NULL, body TEXT NOT NULL);

-- migration 8: an ODS record found by its externalReference (a PMS's own id for it: the Clio client) without a scan.
    CREATE INDEX ods_external_reference ON ods(json_extract(body, '$.externalReference'));
