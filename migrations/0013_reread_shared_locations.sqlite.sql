-- Files read before location_read existed (0012) count as possibly located, so a share
-- would stop serving their originals. Queue the media job again for those a live share
-- offers for download without the location: it reads the position (and remakes the
-- derivatives, as a first run does). Other files stay unread until shared like that and
-- reprocessed; the rule keeps their originals withheld meanwhile.
INSERT INTO jobs (id, kind, payload, state, attempts, run_after, created_at, updated_at)
SELECT lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2)
    || '-a' || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))),
  'media.process', json_object('asset_id', a.id, 'owner_id', a.owner_id), 'queued', 0,
  strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
  strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
FROM assets a
WHERE a.status = 'ready' AND a.media_status = 'ready' AND a.location_read = 0
  AND a.id IN (
    SELECT s.asset_id FROM shares s
      WHERE s.revoked_at IS NULL AND s.allow_download = 1 AND s.include_location = 0
    UNION
    SELECT aa.asset_id FROM album_assets aa JOIN shares s ON s.album_id = aa.album_id
      WHERE s.revoked_at IS NULL AND s.allow_download = 1 AND s.include_location = 0);
