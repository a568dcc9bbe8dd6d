-- Marcus: delivery of task events to outside sinks (n8n webhook URLs, Plane),
-- the log of every webhook delivery attempt, and the task <-> Plane work item map.

-- A sink receives the task events recorded from its registration on.
CREATE TABLE event_sinks (
    sink           text        PRIMARY KEY,
    registered_at  timestamptz NOT NULL DEFAULT now()
);

-- Which events each sink has settled (delivered, or given up on after retries).
-- Tracked per event, not by position: events commit out of seq order.
CREATE TABLE event_sink_progress (
    sink        text        NOT NULL REFERENCES event_sinks (sink) ON DELETE CASCADE,
    event_id    uuid        NOT NULL,
    state       text        NOT NULL CHECK (state IN ('delivered', 'failed', 'skipped')),
    attempts    integer     NOT NULL DEFAULT 0,
    last_error  text,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (sink, event_id)
);

-- Every webhook delivery attempt, successful or not.
CREATE TABLE webhook_deliveries (
    id            uuid        PRIMARY KEY,
    event_id      uuid        NOT NULL,
    url           text        NOT NULL,
    attempt       integer     NOT NULL CHECK (attempt >= 1),
    status_code   integer,
    error         text,
    duration_ms   integer     NOT NULL DEFAULT 0,
    delivered_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_deliveries_delivered_at_idx ON webhook_deliveries (delivered_at DESC, id DESC);
CREATE INDEX webhook_deliveries_event_idx ON webhook_deliveries (event_id);

-- The Plane work item a task is synced to (no foreign key: the link outlives
-- the task until the sync has deleted the work item).
CREATE TABLE plane_work_items (
    task_id         uuid        PRIMARY KEY,
    work_item_id    text        NOT NULL,
    synced_version  integer     NOT NULL DEFAULT 0,
    synced_at       timestamptz NOT NULL DEFAULT now()
);
