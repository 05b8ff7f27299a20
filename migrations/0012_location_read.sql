-- Whether the media job read the file for a position: 1 when it did (gps_latitude and
-- gps_longitude then hold it, or none was there), 0 when it found one it could not
-- understand and for files read before this column existed (the reader then missed
-- EXIF in HEIC, PNG and WebP files, XMP positions, and every video's). A share serves
-- an original without include_location only when this is 1 and no position was found.
ALTER TABLE assets ADD COLUMN location_read INTEGER NOT NULL DEFAULT 0;
