-- Call headers and their events, written as the call runs.
CREATE TABLE calls (
    id BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    call_id TEXT PRIMARY KEY,
    transport TEXT NOT NULL DEFAULT '',
    caller TEXT NOT NULL DEFAULT '',
    language TEXT NOT NULL DEFAULT '',
    started_wall DOUBLE PRECISION NOT NULL,
    ended_wall DOUBLE PRECISION,
    duration DOUBLE PRECISION,
    outcome TEXT,
    end_reason TEXT,
    caller_audio TEXT,
    bot_audio TEXT,
    owner TEXT,
    worker TEXT NOT NULL DEFAULT ''
);
CREATE INDEX calls_started ON calls (started_wall);
CREATE INDEX calls_open ON calls (call_id) WHERE outcome IS NULL;

CREATE TABLE events (
    call_id TEXT NOT NULL REFERENCES calls (call_id),
    seq INTEGER NOT NULL,
    t DOUBLE PRECISION NOT NULL,
    kind TEXT NOT NULL,
    data JSONB NOT NULL,
    PRIMARY KEY (call_id, seq)
);
