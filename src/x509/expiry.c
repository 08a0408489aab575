/*
 * expiry.c - certificate validity and the warning window (see expiry.h for
 * the rules and why they are the only ones).
 */
#include "expiry.h"

#include "util.h"

long long dbssl_expiry_days_left(long long not_after, long long now)
{
    long long d = not_after - now;

    /* C division truncates toward zero; days left rounds toward -inf */
    return d >= 0 ? d / SECONDS_PER_DAY : -((-d + SECONDS_PER_DAY - 1) / SECONDS_PER_DAY);
}

enum dbssl_expiry_state dbssl_expiry_state(long long not_before, long long not_after, long long now,
                                           long warn_days)
{
    if (now < not_before)
        return DBSSL_EXPIRY_NOT_YET_VALID;
    if (now > not_after)
        return DBSSL_EXPIRY_EXPIRED;
    if (warn_days > 0 && not_after - now < (long long)warn_days * SECONDS_PER_DAY)
        return DBSSL_EXPIRY_EXPIRING;
    return DBSSL_EXPIRY_VALID;
}

long dbssl_expiry_renew_window(long validity_days, long warn_days)
{
    return validity_days > warn_days ? warn_days : 0;
}

long long dbssl_expiry_renew_at(long long not_before, long long not_after, long window_days)
{
    long long at = not_before + (not_after - not_before) * 2 / 3;
    long long window = (long long)window_days * SECONDS_PER_DAY;
    /* the first second dbssl_expiry_state() says "expiring": not_after - now < window */
    long long expiring = not_after - window + 1;

    if (window > 0 && expiring < at)
        at = expiring;
    return at;
}

const char *dbssl_expiry_state_name(enum dbssl_expiry_state s)
{
    switch (s) {
    case DBSSL_EXPIRY_VALID:
        return "valid";
    case DBSSL_EXPIRY_EXPIRING:
        return "expiring";
    case DBSSL_EXPIRY_EXPIRED:
        return "expired";
    case DBSSL_EXPIRY_NOT_YET_VALID:
        return "not_yet_valid";
    }
    return "expired";
}
