/*
 * watch.h - notices when certificate, key and .env files change on disk, by
 * plain overwrite, rename, or the symlink swap Kubernetes uses for mounted
 * secrets (`..data` re-pointed to a new timestamped directory), and reports
 * a change only once the files are complete.
 *
 * inotify watches the files' directories; every wait also re-stats the
 * files, so a change is seen even where inotify is unavailable or misses it
 * (network file systems), at the latest after one timeout.
 *
 * "Complete" is what keeps a half-written .env from being read (a reload of
 * `DB_SSL_MODE=prefer` alone would weaken TLS): a file a writer still holds
 * open (IN_MODIFY seen, its IN_CLOSE_WRITE not yet) is never reported, and a
 * change is reported only when every file's content fingerprint (stat and a
 * hash of its bytes) is the same at the start and at the end of a debounce
 * window.  IN_MODIFY alone therefore never triggers anything; the close, a
 * rename into place, or (without inotify) stable content does.
 */
#ifndef DBSSL_WATCH_H
#define DBSSL_WATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "error_int.h"

struct dbssl_watch;

/* Watches paths (copied).  NULL entries and duplicates are skipped. */
struct dbssl_watch *dbssl_watch_new(const char *const *paths, size_t n, struct dbssl_error *err)
    DBSSL_MUSTCHECK;

void dbssl_watch_free(struct dbssl_watch *w);

/*
 * A watch made to replace old (a different list of files) starts from what
 * old last saw of the files both watch, not from their state now: a change
 * made while the new watch was being made is still a change (a .env put
 * right just after a reload refused it, when the refused set's files are
 * added to the watch).  old may be NULL.
 */
void dbssl_watch_inherit(struct dbssl_watch *w, const struct dbssl_watch *old);

/*
 * Waits up to timeout_ms for a change to any watched file.  Once one is
 * seen, waits until no watched file is open for writing and the content is
 * unchanged across a whole window of debounce_ms (so a set written file by
 * file, or a file written in pieces, is taken whole), then returns true.
 * Returns false when nothing changed within timeout_ms, and also when the
 * change did not settle within a bounded number of windows: the change is
 * then still pending, and the next call goes straight back to settling it.
 *
 * cancel_fd (-1: none) is polled too: once it is readable, the wait returns
 * false at once, so that a stop never waits for a window to end.
 */
bool dbssl_watch_wait(struct dbssl_watch *w, int timeout_ms, int debounce_ms, int cancel_fd);

#endif
