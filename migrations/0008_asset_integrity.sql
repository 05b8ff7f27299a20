-- What the integrity scrub last found for an asset's original: when it was re-read,
-- and ok | mismatch (its SHA-256 differs from the one recorded at upload) | missing
-- (storage no longer has it); NULL until the first check. The scrub takes the originals
-- checked longest ago (never checked first), so in time it reaches every one.
ALTER TABLE assets ADD COLUMN integrity_checked_at TEXT;
ALTER TABLE assets ADD COLUMN integrity_status TEXT
  CHECK (integrity_status IN ('ok', 'mismatch', 'missing'));
CREATE INDEX assets_integrity_due ON assets (integrity_checked_at) WHERE status = 'ready';
