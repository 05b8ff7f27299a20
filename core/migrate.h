/* migrate.h -- `itcloud migrate [up|status]`: applies migrations/ in order. */
#ifndef ITCLOUD_MIGRATE_H
#define ITCLOUD_MIGRATE_H

/* Applies every pending migration, each in its own transaction. Refuses to run when
 * an applied file was edited since (checksum mismatch). Returns 0 or -1 (logged). */
int migrate_up(void);

/* Prints each migration with its state. Returns 0, or -1 on a checksum mismatch. */
int migrate_status(void);

#endif
