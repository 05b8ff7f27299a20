-- Periodic jobs (housekeeping, the integrity scrub) carry the period they belong to.
-- Every worker offers the current period's job; this index lets only the first offer
-- in, so each periodic task runs once per period however many workers there are.
ALTER TABLE jobs ADD COLUMN schedule_slot TEXT;
CREATE UNIQUE INDEX jobs_schedule_slots ON jobs (kind, schedule_slot)
  WHERE schedule_slot IS NOT NULL;
