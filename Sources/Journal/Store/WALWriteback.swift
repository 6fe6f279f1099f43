import Foundation
internal import Synchronization
internal import _JournalCShims

/// Starts the kernel writing the WAL to disk while a busy tick is still adding to it, a MiB at a time (what
/// RocksDB calls `wal_bytes_per_sync`). A checkpoint must fsync the WAL before it copies a page out of it, and a
/// tick of 1,000 messages leaves 15 to 20 MiB of it dirty in the page cache: that fsync alone held the end of the
/// tick up for 12 ms. Written back along the way, on a disk that is otherwise idle, the fsync finds little left.
///
/// A hint and nothing more: it starts writes of what is already in the file and waits for none of them, so it
/// changes neither what a crash keeps nor when a commit returns. Linux only (`sync_file_range`); elsewhere it
/// does nothing.
final class WALWriteback: Sendable {
    /// How far the WAL grows between hints.
    static let step = 1 << 20

    private let path: String
    /// The WAL, opened on first use (SQLite creates it with the first write), and its size at the last hint.
    private let state = Mutex<(descriptor: Int32, hinted: Int64)>((-1, 0))

    init(databasePath: String) {
        path = databasePath + "-wal"
    }

    /// After a commit: hints when the WAL has grown by a step since the last hint (or starts over when it has
    /// been truncated since).
    func committed() {
        #if os(Linux)
            state.withLock { state in
                if state.descriptor < 0 {
                    state.descriptor = open(path, O_RDONLY | O_CLOEXEC)
                    state.hinted = 0
                    if state.descriptor < 0 { return }
                }
                var status = stat()
                guard fstat(state.descriptor, &status) == 0 else { return }
                if status.st_nlink == 0 {
                    // The WAL was deleted (the last connection of another process closed it): the next commit
                    // opens the new one.
                    close(state.descriptor)
                    state.descriptor = -1
                    return
                }
                let size = Int64(status.st_size)
                if size < state.hinted { state.hinted = 0 }
                guard size - state.hinted >= Self.step else { return }
                _ = journal_start_writeback(state.descriptor)
                state.hinted = size
            }
        #endif
    }

    /// The WAL's size at the last hint (0: none since it was opened or last truncated).
    var hintedSize: Int64 { state.withLock { $0.hinted } }

    deinit {
        let descriptor = state.withLock { $0.descriptor }
        if descriptor >= 0 { close(descriptor) }
    }
}
