#ifndef JOURNAL_C_SHIMS_H
#define JOURNAL_C_SHIMS_H

#include <sqlite3.h>

/// Keeps SQLite from checkpointing the WAL when the last connection closes: that checkpoint costs an fsync
/// per cron tick. Checkpoints happen on a size budget instead. Returns an SQLite result code.
int journal_disable_checkpoint_on_close(sqlite3 *db);

/// Starts the kernel writing every dirty page of the file out, without waiting for any of it
/// (`sync_file_range` with `SYNC_FILE_RANGE_WRITE` on Linux; nothing elsewhere). Returns 0 or -1 with errno.
int journal_start_writeback(int descriptor);

#endif
