/*
 * tlsver.h - the TLS protocol versions, as dbssl names and orders them: one
 * table for every module that compares or writes them (sessions judged
 * against DB_SSL_MIN_PROTOCOL_VERSION, the audit of the server's settings,
 * the scanner's reports).
 *
 * TLS 1.0 has two spellings: OpenSSL (SSL_get_version(), hence
 * pg_stat_ssl.version) and PostgreSQL's ssl_min_protocol_version write
 * "TLSv1"; reports write "TLSv1.0", as sslscan and testssl do.  Both are
 * read.
 */
#ifndef DBSSL_TLSVER_H
#define DBSSL_TLSVER_H

/* Oldest first: a lower value is an older, weaker version. */
enum dbssl_tlsv {
    DBSSL_TLSV_SSL3 = 0,
    DBSSL_TLSV_1_0,
    DBSSL_TLSV_1_1,
    DBSSL_TLSV_1_2,
    DBSSL_TLSV_1_3,
    DBSSL_TLSV_N
};

/* The version a name means ("SSLv3", "TLSv1" or "TLSv1.0", ... "TLSv1.3"), -1 when unknown. */
int dbssl_tlsv_from_name(const char *name);

/* OpenSSL's and PostgreSQL's spelling ("TLSv1" for 1.0); "unknown" out of range. */
const char *dbssl_tlsv_pg_name(int v);

/* A report's spelling ("TLSv1.0" for 1.0); "unknown" out of range. */
const char *dbssl_tlsv_report_name(int v);

#endif
