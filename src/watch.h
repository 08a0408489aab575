/*
 * watch.h - notices when certificate and key files change on disk, by plain
 * overwrite, rename, or the symlink swap Kubernetes uses for mounted secrets
 * (`..data` re-pointed to a new timestamped directory).
 *
 * inotify watches the files' directories; every wait also re-stats the
 * files, so a change is seen even where inotify is unavailable or misses it
 * (network file systems), at the latest after one timeout.
 */
#ifndef DBSSL_WATCH_H
#define DBSSL_WATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "dbssl/error.h"

struct dbssl_watch;

/* Watches paths (copied).  NULL entries and duplicates are skipped. */
struct dbssl_watch *dbssl_watch_new(const char *const *paths, size_t n, struct dbssl_error *err)
    DBSSL_MUSTCHECK;

void dbssl_watch_free(struct dbssl_watch *w);

/*
 * Waits up to timeout_ms for a change to any watched file.  Once one is
 * seen, waits until the directory has been quiet for debounce_ms (so a set
 * being written file by file is taken whole), then returns true.  Returns
 * false when nothing changed within timeout_ms.
 */
bool dbssl_watch_wait(struct dbssl_watch *w, int timeout_ms, int debounce_ms);

#endif
