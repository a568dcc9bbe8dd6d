-- Giorgio: each generation (artwork and/or copy for a release) is a durable job.
-- The bytes live in Letitia; this row keeps what was asked, what was made
-- (Letitia file ids, copy, where each part came from) and what it was for.
CREATE TABLE generations (
    id           uuid        PRIMARY KEY,          -- UUIDv7: sorts by creation
    kind         text        NOT NULL CHECK (kind IN ('artwork', 'copy', 'release_kit')),
    status       text        NOT NULL DEFAULT 'queued'
                             CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    task_id      uuid,                             -- the Marcus task it was made for
    release_id   text,                             -- the release (Jamal's id) it was made for
    params       jsonb       NOT NULL,             -- the validated request, seed resolved
    sources      jsonb       NOT NULL DEFAULT '{}',
    fallbacks    jsonb       NOT NULL DEFAULT '[]',
    outputs      jsonb       NOT NULL DEFAULT '[]',
    copy         jsonb       NOT NULL DEFAULT '{}',
    error        text,
    attempts     integer     NOT NULL DEFAULT 0,
    lease_until  timestamptz,                      -- a running job's worker renews nothing: it
                                                   -- finishes before this or is taken over
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz
);
CREATE INDEX generations_pending_idx ON generations (created_at) WHERE status IN ('queued', 'running');
CREATE INDEX generations_task_idx ON generations (task_id) WHERE task_id IS NOT NULL;
CREATE INDEX generations_release_idx ON generations (release_id) WHERE release_id IS NOT NULL;
