-- The prototype's tables (tasks, files, task_files, events) with the seed's
-- column names, and what the design adds: the agent registry, the consumers'
-- processed_events, and API keys.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE tasks (
    id           uuid PRIMARY KEY,
    title        text        NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
    description  text        NOT NULL DEFAULT '',
    priority     text        NOT NULL DEFAULT 'medium'
                 CHECK (priority IN ('low', 'medium', 'high', 'urgent')),
    status       text        NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'in_progress', 'completed', 'cancelled')),
    due_date     timestamptz,
    assignee     text,
    tags         text[]      NOT NULL DEFAULT '{}',
    version      integer     NOT NULL DEFAULT 1,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tasks_created_at_idx ON tasks (created_at DESC, id DESC);
CREATE INDEX tasks_due_date_idx ON tasks (due_date) WHERE due_date IS NOT NULL;
CREATE INDEX tasks_tags_idx ON tasks USING gin (tags);

CREATE TABLE files (
    id           uuid PRIMARY KEY,
    filename     text        NOT NULL CHECK (char_length(filename) BETWEEN 1 AND 255),
    file_type    text        NOT NULL DEFAULT 'other'
                 CHECK (file_type IN ('document', 'audio', 'image', 'video', 'other')),
    file_size    bigint      NOT NULL DEFAULT 0 CHECK (file_size >= 0),
    content_type text,
    sha256       text        CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    storage_key  text,
    title        text        NOT NULL DEFAULT '',
    description  text        NOT NULL DEFAULT '',
    tags         text[]      NOT NULL DEFAULT '{}',
    metadata     jsonb       NOT NULL DEFAULT '{}',
    uploaded_at  timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX files_uploaded_at_idx ON files (uploaded_at DESC, id DESC);
CREATE INDEX files_tags_idx ON files USING gin (tags);
CREATE INDEX files_sha256_idx ON files (sha256) WHERE sha256 IS NOT NULL;

CREATE TABLE task_files (
    task_id     uuid        NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    file_id     uuid        NOT NULL REFERENCES files (id) ON DELETE CASCADE,
    reason      text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (task_id, file_id)
);
CREATE INDEX task_files_file_idx ON task_files (file_id);

-- The outbox and the audit trail in one: a row is written in the same
-- transaction as the change it reports, and published later by the relay.
CREATE TABLE events (
    seq             bigserial   UNIQUE,
    id              uuid        PRIMARY KEY,
    type            text        NOT NULL,
    source          text        NOT NULL,
    subject         text,
    channel         text        NOT NULL,
    data            jsonb       NOT NULL DEFAULT '{}',
    correlation_id  text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    published_at    timestamptz,
    attempts        integer     NOT NULL DEFAULT 0,
    last_error      text
);
CREATE INDEX events_created_at_idx ON events (created_at DESC, seq DESC);
CREATE INDEX events_unpublished_idx ON events (seq) WHERE published_at IS NULL;
CREATE INDEX events_type_idx ON events (type, created_at DESC);
CREATE INDEX events_subject_idx ON events (subject, created_at DESC);

CREATE TABLE processed_events (
    consumer      text        NOT NULL,
    event_id      uuid        NOT NULL,
    processed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

CREATE TABLE agents (
    name          text        PRIMARY KEY,
    endpoint      text        NOT NULL,
    routes        jsonb       NOT NULL DEFAULT '[]',
    publishes     text[]      NOT NULL DEFAULT '{}',
    subscribes    text[]      NOT NULL DEFAULT '{}',
    chat          jsonb       NOT NULL DEFAULT '{}',
    version       text        NOT NULL DEFAULT '',
    description   text        NOT NULL DEFAULT '',
    registered_at timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
    id            uuid        PRIMARY KEY,
    name          text        NOT NULL,
    prefix        text        NOT NULL UNIQUE,
    key_hash      text        NOT NULL,
    scopes        text[]      NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz
);
