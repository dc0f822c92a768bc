-- One row per call, as in the SQLite store (history/sqlite_store.py): the
-- columns history is searched by, the rest of the contact as JSON. The
-- caller number is only ever its keyed hash (number_key).
CREATE TABLE history_contacts (
    call_id TEXT PRIMARY KEY,
    started DOUBLE PRECISION NOT NULL,
    customer_id TEXT NOT NULL DEFAULT '',
    number_key TEXT NOT NULL DEFAULT '',
    data JSONB NOT NULL
);
CREATE INDEX history_contacts_customer ON history_contacts (customer_id, started);
CREATE INDEX history_contacts_number ON history_contacts (number_key, started);
CREATE INDEX history_contacts_started ON history_contacts (started);
-- That an erasure happened (PDPA), with nothing personal in it.
CREATE TABLE history_erasures (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at DOUBLE PRECISION NOT NULL,
    contacts INTEGER NOT NULL
);
