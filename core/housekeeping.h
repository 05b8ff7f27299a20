/* housekeeping.h -- periodic work inside `itcloud serve` (stale uploads, trash
 * retention) until a job queue takes it over. */
#ifndef ITCLOUD_HOUSEKEEPING_H
#define ITCLOUD_HOUSEKEEPING_H

/* Starts a thread that calls app.housekeeping() every HOUSEKEEPING_INTERVAL_SECONDS in
 * a VM of its own (rebuilt after reloads). Returns 0 or -1. */
int housekeeping_start(void);

/* Stops the thread and waits for it. */
void housekeeping_stop(void);

#endif
