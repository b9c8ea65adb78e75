#ifndef CSQLITESHIM_H
#define CSQLITESHIM_H

#include <sqlite3.h>

/// Leaves the WAL file in place when the last connection closes, instead of checkpointing it into
/// the database file (two fsyncs) and deleting it; SQLite checkpoints it as it grows instead.
/// sqlite3_db_config is variadic, which Swift cannot call: hence this one C function.
int cx_sqlite_keep_wal_on_close(sqlite3 *db);

/// Switches the file to WAL (`PRAGMA journal_mode = WAL`): 1 when it is in WAL mode after, else 0.
/// In C, not through GRDB: its typed fetch machinery, instantiated for this one row, was 2.5% of
/// an empty run's start.
int cx_sqlite_use_wal(sqlite3 *db);

/// `PRAGMA user_version` (the schema version cxrun records after migrating), or -1 when it cannot
/// be read.
int cx_sqlite_user_version(sqlite3 *db);
/// The file's `application_id` (what kind of file the header says it is), -1 on error.
int cx_sqlite_application_id(sqlite3 *db);

/// Binds text that SQLite copies at once (SQLITE_TRANSIENT, a macro Swift cannot import).
int cx_sqlite_bind_text_copy(sqlite3_stmt *statement, int index, const char *text, int length);

#endif
