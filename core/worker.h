/* worker.h -- `itcloud worker` (a process that runs jobs) and the supervision of
 * WORKER_PROCESSES such processes by `itcloud serve`. */
#ifndef ITCLOUD_WORKER_H
#define ITCLOUD_WORKER_H

/* Runs jobs (app.work()) until SIGTERM/SIGINT, while a heartbeat thread renews the
 * running job's lease (app.renew_lease()); SIGHUP reloads. Returns the exit code. */
int worker_run(void);

/* Starts `count` worker processes (this binary with "worker"). Call before any thread
 * is started. Returns 0 or -1. */
int workers_start(int count);

/* Reaps workers that exited and starts replacements (on SIGCHLD). */
void workers_restart_exited(void);

/* Passes a reload (SIGHUP) on to every worker. */
void workers_reload(void);

/* Asks every worker to stop (SIGTERM) and waits for them, killing after `grace_ms`. */
void workers_stop(long grace_ms);

#endif
