#ifndef CSQLITESHIM_H
#define CSQLITESHIM_H

#include <sqlite3.h>

/// Leaves the WAL file in place when the last connection closes, instead of checkpointing it into
/// the database file (two fsyncs) and deleting it; SQLite checkpoints it as it grows instead.
/// sqlite3_db_config is variadic, which Swift cannot call: hence this one C function.
int cx_sqlite_keep_wal_on_close(sqlite3 *db);

/// Binds text that SQLite copies at once (SQLITE_TRANSIENT, a macro Swift cannot import).
int cx_sqlite_bind_text_copy(sqlite3_stmt *statement, int index, const char *text, int length);

#endif
