-- Whether the media job read a video's container and stream tags for a position: 1
-- when it did (gps_latitude/gps_longitude then hold it, or nothing was there), 0 for
-- videos processed before locations were read and for positions it could not
-- understand. A share serves a video's original without include_location only when
-- this is 1 and no position was found. Photos' EXIF is read whenever media_status is
-- ready, so they do not depend on it.
ALTER TABLE assets ADD COLUMN location_read INTEGER NOT NULL DEFAULT 0;
