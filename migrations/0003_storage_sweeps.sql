-- Objects to delete once the upload URLs that could write them have expired: a
-- finished or cancelled upload's staging key, which a replayed PUT could otherwise
-- write again after finalize moved the bytes away.
CREATE TABLE storage_sweeps (
  storage_key TEXT PRIMARY KEY,
  sweep_after TEXT NOT NULL
);
CREATE INDEX storage_sweeps_due ON storage_sweeps (sweep_after);
