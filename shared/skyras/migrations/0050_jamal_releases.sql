-- Jamal: shows (one podcast feed each), releases with their per-channel status,
-- and the log of every webhook delivery attempt for a release.

CREATE TABLE shows (
    id                 uuid        PRIMARY KEY,
    slug               text        NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    title              text        NOT NULL CHECK (char_length(title) BETWEEN 1 AND 255),
    description        text        NOT NULL CHECK (char_length(description) BETWEEN 1 AND 4000),
    language           text        NOT NULL DEFAULT 'en',
    author             text        NOT NULL,
    owner_name         text        NOT NULL,
    owner_email        text        NOT NULL,
    explicit           boolean     NOT NULL DEFAULT false,
    category           text        NOT NULL,
    subcategory        text,
    -- The Letitia file of the show's artwork, and what Jamal measured of it.
    artwork_file_id    uuid        NOT NULL,
    artwork            jsonb       NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE releases (
    id                 uuid        PRIMARY KEY,
    show_id            uuid        REFERENCES shows (id),  -- needed by the podcast channel only
    -- Given once at creation and never changed: podcast apps key episodes on it.
    guid               text        NOT NULL UNIQUE,
    title              text        NOT NULL CHECK (char_length(title) BETWEEN 1 AND 255),
    artist             text        NOT NULL CHECK (char_length(artist) BETWEEN 1 AND 255),
    description        text        NOT NULL DEFAULT '',
    explicit           boolean     NOT NULL DEFAULT false,
    audio_file_id      uuid        NOT NULL,
    -- {filename, content_type, size, duration_seconds}: measured from the bytes.
    audio              jsonb       NOT NULL,
    artwork_file_id    uuid        NOT NULL,
    artwork            jsonb       NOT NULL,
    publish_at         timestamptz NOT NULL,
    version            integer     NOT NULL DEFAULT 1,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX releases_show_idx ON releases (show_id, publish_at DESC);
CREATE INDEX releases_created_at_idx ON releases (created_at DESC, id DESC);

CREATE TABLE release_channels (
    release_id    uuid        NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    channel       text        NOT NULL CHECK (channel IN ('podcast', 'webhook', 'bucket')),
    status        text        NOT NULL DEFAULT 'scheduled'
                  CHECK (status IN ('scheduled', 'publishing', 'published', 'failed', 'withdrawn')),
    error         text,
    -- What publishing produced (public URLs of the bucket's objects, ...).
    result        jsonb       NOT NULL DEFAULT '{}',
    attempts      integer     NOT NULL DEFAULT 0,
    published_at  timestamptz,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (release_id, channel)
);
-- The scheduler's question: which channels are due (or were left mid-publish)?
CREATE INDEX release_channels_pending_idx ON release_channels (release_id)
    WHERE status IN ('scheduled', 'publishing');

CREATE TABLE release_webhook_deliveries (
    id            uuid        PRIMARY KEY,
    release_id    uuid        NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    message_id    text        NOT NULL,
    url           text        NOT NULL,
    attempt       integer     NOT NULL CHECK (attempt >= 1),
    status_code   integer,
    error         text,
    duration_ms   integer     NOT NULL DEFAULT 0,
    delivered_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX release_webhook_deliveries_release_idx
    ON release_webhook_deliveries (release_id, delivered_at DESC);
