-- The agent queues' events (enqueued, offered, accepted, wrapped...) of every
-- worker, for the supervisor reports; eid makes a retried batch harmless.
CREATE TABLE handoff_events (
    id BIGINT GENERATED ALWAYS AS IDENTITY,
    eid TEXT PRIMARY KEY,
    at DOUBLE PRECISION NOT NULL,
    type TEXT NOT NULL,
    queue TEXT NOT NULL DEFAULT '',
    agent TEXT NOT NULL DEFAULT '',
    worker TEXT NOT NULL DEFAULT '',
    body JSONB NOT NULL
);
CREATE INDEX handoff_events_at ON handoff_events (at);
