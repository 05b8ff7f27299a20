-- The library: one row per uploaded photo or video. Portable SQL (SQLite and
-- PostgreSQL). A row is 'uploading' from /uploads/create until finalize, then
-- 'ready' (or 'failed' with a reason). Trash is deleted_at; purge removes the row.

CREATE TABLE assets (
  id TEXT PRIMARY KEY,
  owner_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  type TEXT NOT NULL CHECK (type IN ('photo', 'video')),
  status TEXT NOT NULL CHECK (status IN ('uploading', 'ready', 'failed')),
  original_filename TEXT NOT NULL,
  content_type TEXT NOT NULL,
  size_bytes INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  width INTEGER,
  height INTEGER,
  duration_ms INTEGER,
  captured_at TEXT,
  -- captured_at when known, else created_at: the library's order (keyset pagination)
  sort_at TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  deleted_at TEXT,
  storage_key_original TEXT NOT NULL,
  storage_key_thumb TEXT,
  storage_key_preview TEXT,
  storage_key_poster TEXT,
  placeholder TEXT,
  -- upload bookkeeping
  staging_key TEXT,
  multipart_upload_id TEXT,
  upload_expires_at TEXT,
  failure_reason TEXT
);

-- The library, newest first, without the trash.
CREATE INDEX assets_library ON assets (owner_id, sort_at DESC, id DESC)
  WHERE status = 'ready' AND deleted_at IS NULL;
-- The trash, and retention.
CREATE INDEX assets_trash ON assets (owner_id, sort_at DESC, id DESC)
  WHERE deleted_at IS NOT NULL;
CREATE INDEX assets_trash_age ON assets (deleted_at) WHERE deleted_at IS NOT NULL;
-- One stored copy per file and user.
CREATE UNIQUE INDEX assets_owner_sha256 ON assets (owner_id, sha256) WHERE status = 'ready';
-- Uploads never finalized, for clean-up; usage per user.
CREATE INDEX assets_stale_uploads ON assets (upload_expires_at) WHERE status = 'uploading';
CREATE INDEX assets_owner ON assets (owner_id, status);
