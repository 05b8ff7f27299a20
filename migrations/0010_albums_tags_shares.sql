-- Albums, tags, favourites and share links. Portable SQL (SQLite and PostgreSQL).
-- An album or a tag only groups assets: deleting one never deletes an asset, and
-- purging an asset takes it out of every album and tag (ON DELETE CASCADE).

CREATE TABLE albums (
  id TEXT PRIMARY KEY,
  owner_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  title TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  -- chosen by the owner; when unset (or trashed) the newest asset is the cover
  cover_asset_id TEXT REFERENCES assets (id) ON DELETE SET NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX albums_owner ON albums (owner_id, created_at DESC);

-- sort_at is the asset's (kept equal by a trigger), so an album's page is read in index
-- order however large the library around it is
CREATE TABLE album_assets (
  album_id TEXT NOT NULL REFERENCES albums (id) ON DELETE CASCADE,
  asset_id TEXT NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
  added_at TEXT NOT NULL,
  sort_at TEXT NOT NULL,
  PRIMARY KEY (album_id, asset_id)
);
CREATE INDEX album_assets_order ON album_assets (album_id, sort_at DESC, asset_id DESC);
CREATE INDEX album_assets_asset ON album_assets (asset_id);

-- name as the owner wrote it (trimmed); name_key is its case-folded form, unique
-- per owner, so "Beach" and " beach " are one tag
CREATE TABLE tags (
  id TEXT PRIMARY KEY,
  owner_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  name_key TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX tags_owner_name ON tags (owner_id, name_key);

-- sort_at as in album_assets
CREATE TABLE asset_tags (
  tag_id TEXT NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
  asset_id TEXT NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
  sort_at TEXT NOT NULL,
  PRIMARY KEY (tag_id, asset_id)
);
CREATE INDEX asset_tags_order ON asset_tags (tag_id, sort_at DESC, asset_id DESC);
CREATE INDEX asset_tags_asset ON asset_tags (asset_id);

ALTER TABLE assets ADD COLUMN favorite INTEGER NOT NULL DEFAULT 0;
CREATE INDEX assets_favorites ON assets (owner_id, sort_at DESC, id DESC)
  WHERE favorite = 1 AND status = 'ready' AND deleted_at IS NULL;

-- A public link to one asset or one album. The token itself is never stored: it is
-- an HMAC (under a key derived from the server secret) of the id and token_salt, and
-- it is looked up by its SHA-256, so the database alone yields no working link.
-- password_version changes with every password change and ends unlocked sessions.
CREATE TABLE shares (
  id TEXT PRIMARY KEY,
  owner_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  token_salt TEXT NOT NULL,
  token_hash TEXT NOT NULL,
  asset_id TEXT REFERENCES assets (id) ON DELETE CASCADE,
  album_id TEXT REFERENCES albums (id) ON DELETE CASCADE,
  expires_at TEXT,
  revoked_at TEXT,
  password_hash TEXT,
  password_version INTEGER NOT NULL DEFAULT 0,
  allow_download INTEGER NOT NULL DEFAULT 0,
  include_location INTEGER NOT NULL DEFAULT 0,
  view_count INTEGER NOT NULL DEFAULT 0,
  last_viewed_at TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  CHECK ((asset_id IS NULL) <> (album_id IS NULL))
);
CREATE UNIQUE INDEX shares_token_hash ON shares (token_hash);
CREATE INDEX shares_owner ON shares (owner_id, created_at DESC);
CREATE INDEX shares_asset ON shares (asset_id);
CREATE INDEX shares_album ON shares (album_id);
