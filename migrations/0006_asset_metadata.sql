-- Camera metadata read from the file by the media job (EXIF), shown in the viewer's
-- info panel. GPS is the owner's: shares strip it unless the owner opts in.
ALTER TABLE assets ADD COLUMN camera_make TEXT;
ALTER TABLE assets ADD COLUMN camera_model TEXT;
ALTER TABLE assets ADD COLUMN lens_model TEXT;
ALTER TABLE assets ADD COLUMN exposure_time TEXT;
ALTER TABLE assets ADD COLUMN f_number REAL;
ALTER TABLE assets ADD COLUMN iso INTEGER;
ALTER TABLE assets ADD COLUMN focal_length REAL;
ALTER TABLE assets ADD COLUMN gps_latitude REAL;
ALTER TABLE assets ADD COLUMN gps_longitude REAL;
