-- Ari: mastering jobs. A job is a durable row: queued by the API, chat or a
-- file tagged `master`, claimed by one worker under a lease, reclaimed when
-- the lease lapses (its worker died), and finished once.
CREATE TABLE mastering_jobs (
    id                uuid        PRIMARY KEY,
    source_file_id    uuid        NOT NULL,
    source_filename   text        NOT NULL,
    -- The resolved targets: [{key, preset, integrated_lufs, true_peak_dbtp, format, sample_rate, channels}].
    targets           jsonb       NOT NULL,
    status            text        NOT NULL DEFAULT 'queued'
                      CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
    progress          real        NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 1),
    requested_by      text        NOT NULL CHECK (requested_by IN ('api', 'chat', 'tag')),
    -- The file.tagged / file.uploaded event that asked for the job: one job per event.
    trigger_event_id  uuid        UNIQUE,
    attempts          integer     NOT NULL DEFAULT 0,
    worker            text,
    lease_until       timestamptz,
    cancel_requested  boolean     NOT NULL DEFAULT false,
    analysis          jsonb,
    results           jsonb,
    error             jsonb,
    correlation_id    text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    started_at        timestamptz,
    finished_at       timestamptz,
    updated_at        timestamptz NOT NULL DEFAULT now()
);

-- Workers look for queued jobs, and for running ones whose lease lapsed.
CREATE INDEX mastering_jobs_claimable_idx ON mastering_jobs (created_at)
    WHERE status IN ('queued', 'running');
CREATE INDEX mastering_jobs_created_idx ON mastering_jobs (created_at DESC, id DESC);
CREATE INDEX mastering_jobs_source_idx ON mastering_jobs (source_file_id);
