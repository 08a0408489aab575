/*
 * throttle.h - keeps a noisy source's log lines few: the first message of
 * each kind is logged at once, repeats within the window are only counted,
 * and at the end of the window one line says how many there were.  A kind
 * is identified by a pointer (e.g. the format string of a library message).
 *
 * Not thread-safe by itself: the caller holds its own lock.  Times are
 * monotonic milliseconds from the caller, so tests drive the clock.
 */
#ifndef DBSSL_THROTTLE_H
#define DBSSL_THROTTLE_H

#include <stdbool.h>
#include <stddef.h>

#define DBSSL_THROTTLE_KINDS 32
#define DBSSL_THROTTLE_TEXT  256

struct dbssl_throttle_kind {
    const void *key; /* NULL: free slot */
    long long window_start;
    unsigned long long repeats;
    char text[DBSSL_THROTTLE_TEXT]; /* the latest message of the kind */
};

struct dbssl_throttle {
    long long window_ms;
    struct dbssl_throttle_kind kinds[DBSSL_THROTTLE_KINDS];
};

void dbssl_throttle_init(struct dbssl_throttle *t, long long window_ms);

/*
 * A message of kind key at time now: true when it is to be logged now (the
 * first of its window), false when it was only counted.  *unreported is the
 * count of repeats of an earlier window that no flush reported yet (the
 * line logged now should say so).  With more kinds in one window than the
 * table holds, the extra kinds are always logged.
 */
bool dbssl_throttle_hit(struct dbssl_throttle *t, const void *key, const char *text, long long now,
                        unsigned long long *unreported);

/*
 * Ends the windows that are over at time now: emit(key, text, repeats, arg)
 * for each kind that had repeats (text is the latest of them), then forgets
 * the kind so that its next message is logged at once again.
 */
void dbssl_throttle_flush(struct dbssl_throttle *t, long long now,
                          void (*emit)(const void *key, const char *text,
                                       unsigned long long repeats, void *arg),
                          void *arg);

#endif
