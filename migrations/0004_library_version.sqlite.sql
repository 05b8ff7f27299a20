-- A per-user counter that changes whenever any of the user's assets changes, kept by
-- triggers so no code path can forget it. Listing pages are cached under it: a page
-- cached for version N is never served once the library has changed.
ALTER TABLE users ADD COLUMN library_version INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER assets_version_insert AFTER INSERT ON assets
BEGIN
  UPDATE users SET library_version = library_version + 1 WHERE id = NEW.owner_id;
END;

CREATE TRIGGER assets_version_update AFTER UPDATE ON assets
BEGIN
  UPDATE users SET library_version = library_version + 1 WHERE id = NEW.owner_id;
END;

CREATE TRIGGER assets_version_delete AFTER DELETE ON assets
BEGIN
  UPDATE users SET library_version = library_version + 1 WHERE id = OLD.owner_id;
END;
