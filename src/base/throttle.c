/*
 * throttle.c - first message at once, repeats counted, one summary per
 * window (see throttle.h).  A fixed table: a flood of one kind costs a
 * lookup and a copy, never memory.
 */
#include "throttle.h"

#include <stdio.h>
#include <string.h>

void dbssl_throttle_init(struct dbssl_throttle *t, long long window_ms)
{
    memset(t, 0, sizeof(*t));
    t->window_ms = window_ms;
}

bool dbssl_throttle_hit(struct dbssl_throttle *t, const void *key, const char *text, long long now,
                        unsigned long long *unreported)
{
    struct dbssl_throttle_kind *slot = NULL;

    *unreported = 0;
    for (size_t i = 0; i < DBSSL_THROTTLE_KINDS; i++) {
        struct dbssl_throttle_kind *k = &t->kinds[i];
        if (k->key == key) {
            if (now - k->window_start < t->window_ms) {
                k->repeats++;
                snprintf(k->text, sizeof(k->text), "%s", text);
                return false;
            }
            /* over but not flushed yet: this message opens the next window */
            *unreported = k->repeats;
            slot = k;
            break;
        }
        if (k->key == NULL && slot == NULL)
            slot = k;
    }
    if (slot == NULL)
        return true; /* more kinds than slots: log them all rather than lose one */
    slot->key = key;
    slot->window_start = now;
    slot->repeats = 0;
    slot->text[0] = '\0';
    return true;
}

void dbssl_throttle_flush(struct dbssl_throttle *t, long long now,
                          void (*emit)(const void *key, const char *text,
                                       unsigned long long repeats, void *arg),
                          void *arg)
{
    for (size_t i = 0; i < DBSSL_THROTTLE_KINDS; i++) {
        struct dbssl_throttle_kind *k = &t->kinds[i];
        if (k->key == NULL || now - k->window_start < t->window_ms)
            continue;
        if (k->repeats > 0)
            emit(k->key, k->text, k->repeats, arg);
        k->key = NULL;
        k->repeats = 0;
    }
}
