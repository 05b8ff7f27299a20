/* db.h -- opening the configured database from C (migrations, readiness) with the
 * same settings core.db uses. SQLite now; PostgreSQL fills the same shape later. */
#ifndef ITCLOUD_DB_H
#define ITCLOUD_DB_H

#include <sqlite3.h>
#include <stddef.h>

/* Opens `path` read-write (creating it), with WAL, synchronous=FULL, foreign keys on
 * and a busy timeout. Returns NULL and a message in err on failure. Caller closes. */
sqlite3 *db_open_sqlite(const char *path, char *err, size_t errlen);

#endif
