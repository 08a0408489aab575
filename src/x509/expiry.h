/*
 * expiry.h - the one answer to "is this certificate expired, expiring soon,
 * or fine?", and how many days it has left.
 *
 * Every caller (validation, health, renewal, `certs inspect`, the checker's
 * expiry log, metrics, the scanner) asks here, so that the same certificate
 * shows the same days left and the same verdict everywhere.
 *
 * The rules:
 *  - A certificate is valid from not_before through not_after, both
 *    inclusive (RFC 5280 4.1.2.5): at exactly not_after it is still valid,
 *    one second later it has expired.
 *  - Days left is floor((not_after - now) / day): a certificate that expired
 *    an hour ago has -1 days left, one that expires in 23 hours has 0.
 *  - Expiring means valid with fewer than warn_days whole days left, i.e.
 *    not_after - now < warn_days * day.  So DB_SSL_EXPIRY_WARN_DAYS=30 warns
 *    from the moment days left drops to 29, and 0 never warns.
 *  - A generated certificate is due for renewal at two thirds of its
 *    lifetime (as step-ca and cert-manager renew), or on entering the
 *    warning window if that comes first.  The window counts only when the
 *    configured validity is longer than it: otherwise every fresh
 *    certificate would be due, and each run would replace the set.
 *    `dbssl certs generate` and serve's renewal both ask here, so that a
 *    generated set is never reported expiring by health while serve waits
 *    to renew it.
 */
#ifndef DBSSL_EXPIRY_H
#define DBSSL_EXPIRY_H

#include <stdbool.h>

enum dbssl_expiry_state {
    DBSSL_EXPIRY_VALID = 0,     /* "valid" */
    DBSSL_EXPIRY_EXPIRING,      /* "expiring": valid, inside the warning window */
    DBSSL_EXPIRY_EXPIRED,       /* "expired" */
    DBSSL_EXPIRY_NOT_YET_VALID, /* "not_yet_valid" */
};

/* Whole days from now to not_after, rounded down (negative once expired). */
long long dbssl_expiry_days_left(long long not_after, long long now);

/* The state of a certificate valid [not_before, not_after] at now. */
enum dbssl_expiry_state dbssl_expiry_state(long long not_before, long long not_after, long long now,
                                           long warn_days);

/* The warning window renewal heeds for certificates generated valid for
 * validity_days (DB_SSL_AUTO_CERT_VALIDITY_DAYS), with DB_SSL_EXPIRY_WARN_DAYS
 * warn_days: warn_days, or 0 when the validity is not longer. */
long dbssl_expiry_renew_window(long validity_days, long warn_days);

/* When a generated certificate valid [not_before, not_after] is due for
 * renewal, with the window of dbssl_expiry_renew_window() (0: two thirds only). */
long long dbssl_expiry_renew_at(long long not_before, long long not_after, long window_days);

/* "valid", "expiring", "expired", "not_yet_valid". */
const char *dbssl_expiry_state_name(enum dbssl_expiry_state s);

#endif
