#ifndef JOURNAL_C_SHIMS_H
#define JOURNAL_C_SHIMS_H

#include <sqlite3.h>

/// Keeps SQLite from checkpointing the WAL when the last connection closes: that checkpoint costs an fsync
/// per cron tick. Checkpoints happen on a size budget instead. Returns an SQLite result code.
int journal_disable_checkpoint_on_close(sqlite3 *db);

#endif
