-- The durable job queue (thumbnails and previews now; more kinds later) and the media
-- state of each asset. A job is claimed with a lease: a worker that dies loses
-- nothing, the lease runs out and another worker takes the job again.
CREATE TABLE jobs (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  payload TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  run_after TEXT NOT NULL,
  lease_owner TEXT,
  lease_expires_at TEXT,
  last_error TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX jobs_queued ON jobs (run_after) WHERE state = 'queued';
CREATE INDEX jobs_leases ON jobs (lease_expires_at) WHERE state = 'running';

-- pending until the media job has run; ready or failed after (with the reason)
ALTER TABLE assets ADD COLUMN media_status TEXT NOT NULL DEFAULT 'pending';
ALTER TABLE assets ADD COLUMN media_error TEXT;
