-- SQLite triggers. (0) An asset's sort_at, copied into album_assets and asset_tags so
-- album and tag pages read in index order, follows the asset's. (1) Albums, their contents and tags also bump the owner's
-- library_version (0004), so listing pages cached under it -- the owner's album and
-- tag views and public album shares -- are never served stale. (2) The change feed:
-- one row per change to a stored asset (added, changed, trashed, restored, purged),
-- written by triggers so no code path can forget it; /assets/changes reads it.

CREATE TRIGGER assets_sort_at_copies AFTER UPDATE OF sort_at ON assets
  WHEN NEW.sort_at <> OLD.sort_at
BEGIN
  UPDATE album_assets SET sort_at = NEW.sort_at WHERE asset_id = NEW.id;
  UPDATE asset_tags SET sort_at = NEW.sort_at WHERE asset_id = NEW.id;
END;

CREATE TRIGGER albums_version_insert AFTER INSERT ON albums
BEGIN
  UPDATE users SET library_version = library_version + 1 WHERE id = NEW.owner_id;
END;

CREATE TRIGGER albums_version_update AFTER UPDATE ON albums
BEGIN
  UPDATE users SET library_version = library_version + 1 WHERE id = NEW.owner_id;
END;

CREATE TRIGGER albums_version_delete AFTER DELETE ON albums
BEGIN
  UPDATE users SET library_version = library_version + 1 WHERE id = OLD.owner_id;
END;

CREATE TRIGGER album_assets_version_insert AFTER INSERT ON album_assets
BEGIN
  UPDATE users SET library_version = library_version + 1
    WHERE id = (SELECT owner_id FROM albums WHERE id = NEW.album_id);
END;

CREATE TRIGGER album_assets_version_delete AFTER DELETE ON album_assets
BEGIN
  UPDATE users SET library_version = library_version + 1
    WHERE id = (SELECT owner_id FROM albums WHERE id = OLD.album_id);
END;

CREATE TRIGGER tags_version_update AFTER UPDATE ON tags
BEGIN
  UPDATE users SET library_version = library_version + 1 WHERE id = NEW.owner_id;
END;

CREATE TRIGGER tags_version_delete AFTER DELETE ON tags
BEGIN
  UPDATE users SET library_version = library_version + 1 WHERE id = OLD.owner_id;
END;

CREATE TRIGGER asset_tags_version_insert AFTER INSERT ON asset_tags
BEGIN
  UPDATE users SET library_version = library_version + 1
    WHERE id = (SELECT owner_id FROM tags WHERE id = NEW.tag_id);
END;

CREATE TRIGGER asset_tags_version_delete AFTER DELETE ON asset_tags
BEGIN
  UPDATE users SET library_version = library_version + 1
    WHERE id = (SELECT owner_id FROM tags WHERE id = OLD.tag_id);
END;

CREATE TABLE asset_changes (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  owner_id TEXT NOT NULL,
  asset_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('added', 'changed', 'trashed', 'restored', 'purged')),
  at TEXT NOT NULL
);
CREATE INDEX asset_changes_owner ON asset_changes (owner_id, seq);
CREATE INDEX asset_changes_at ON asset_changes (at);

CREATE TRIGGER asset_changes_insert AFTER INSERT ON assets WHEN NEW.status = 'ready'
BEGIN
  INSERT INTO asset_changes (owner_id, asset_id, kind, at)
    VALUES (NEW.owner_id, NEW.id, 'added', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
END;

CREATE TRIGGER asset_changes_update AFTER UPDATE ON assets WHEN NEW.status = 'ready'
BEGIN
  INSERT INTO asset_changes (owner_id, asset_id, kind, at)
    VALUES (NEW.owner_id, NEW.id,
      CASE
        WHEN OLD.status <> 'ready' THEN 'added'
        WHEN OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL THEN 'trashed'
        WHEN OLD.deleted_at IS NOT NULL AND NEW.deleted_at IS NULL THEN 'restored'
        ELSE 'changed'
      END,
      strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
END;

CREATE TRIGGER asset_changes_delete AFTER DELETE ON assets WHEN OLD.status = 'ready'
BEGIN
  INSERT INTO asset_changes (owner_id, asset_id, kind, at)
    VALUES (OLD.owner_id, OLD.id, 'purged', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
END;
