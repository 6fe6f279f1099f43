#ifndef CHILD_PROCESS_C_SHIMS_H
#define CHILD_PROCESS_C_SHIMS_H

#include <sys/types.h>

/// pipe2(O_CLOEXEC): both ends close-on-exec from the start, so a child another thread spawns at the same
/// moment cannot inherit them. Returns 0 or an errno.
int child_process_pipe(int fds[2]);

/// posix_spawn (vfork-like in glibc: no copy of the parent's page tables) of `path` with `in`, `out` and `err`
/// as its standard descriptors and every other descriptor closed, in `directory`, in a process group of its
/// own, with every signal at its default disposition and none blocked. Returns 0 or an errno.
int child_process_spawn(
    pid_t *pid, const char *path, char *const argv[], char *const envp[], const char *directory, int in, int out,
    int err);

#endif
