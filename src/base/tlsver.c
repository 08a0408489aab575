/*
 * tlsver.c - the TLS protocol versions' names and order (see tlsver.h).
 */
#include "tlsver.h"

#include <string.h>

static const struct {
    const char *pg;     /* OpenSSL's and PostgreSQL's */
    const char *report; /* sslscan's and testssl's */
} names[DBSSL_TLSV_N] = {
    {"SSLv3", "SSLv3"},     {"TLSv1", "TLSv1.0"},   {"TLSv1.1", "TLSv1.1"},
    {"TLSv1.2", "TLSv1.2"}, {"TLSv1.3", "TLSv1.3"},
};

int dbssl_tlsv_from_name(const char *name)
{
    for (int v = 0; name != NULL && v < DBSSL_TLSV_N; v++)
        if (strcmp(name, names[v].pg) == 0 || strcmp(name, names[v].report) == 0)
            return v;
    return -1;
}

const char *dbssl_tlsv_pg_name(int v)
{
    return v >= 0 && v < DBSSL_TLSV_N ? names[v].pg : "unknown";
}

const char *dbssl_tlsv_report_name(int v)
{
    return v >= 0 && v < DBSSL_TLSV_N ? names[v].report : "unknown";
}
