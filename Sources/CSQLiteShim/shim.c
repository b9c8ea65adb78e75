#include "CSQLiteShim.h"

int cx_sqlite_keep_wal_on_close(sqlite3 *db) {
    return sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)0);
}

int cx_sqlite_bind_text_copy(sqlite3_stmt *statement, int index, const char *text, int length) {
    return sqlite3_bind_text(statement, index, text, length, SQLITE_TRANSIENT);
}

/// The first column of the first row `sql` returns, as text compared with `expected` (1 when equal),
/// or as an integer (`expected` NULL); -1 when the statement fails.
static int first_value(sqlite3 *db, const char *sql, const char *expected) {
    sqlite3_stmt *statement = 0;
    if (sqlite3_prepare_v2(db, sql, -1, &statement, 0) != SQLITE_OK) return -1;
    int result = -1;
    if (sqlite3_step(statement) == SQLITE_ROW) {
        if (expected) {
            const unsigned char *text = sqlite3_column_text(statement, 0);
            result = text != 0 && sqlite3_stricmp((const char *)text, expected) == 0;
        } else {
            result = sqlite3_column_int(statement, 0);
        }
    }
    sqlite3_finalize(statement);
    return result;
}

int cx_sqlite_use_wal(sqlite3 *db) {
    return first_value(db, "PRAGMA journal_mode = WAL", "wal") == 1;
}

int cx_sqlite_user_version(sqlite3 *db) {
    return first_value(db, "PRAGMA user_version", 0);
}

int cx_sqlite_application_id(sqlite3 *db) {
    return first_value(db, "PRAGMA application_id", 0);
}
