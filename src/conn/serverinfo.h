/*
 * serverinfo.h - what a PostgreSQL server says about its own TLS: the
 * settings of pg_settings and the rules of pg_hba_file_rules, read over a
 * connection dbssl made (the conn layer: libpq stays in serverinfo.c).
 *
 * Both are guarded by privileges.  A role sees ssl, ssl_prefer_server_ciphers,
 * ssl_ca_file, ssl_crl_file, ssl_crl_dir and password_encryption; the
 * protocol versions, ssl_ciphers and ssl_ecdh_curve only with superuser or
 * pg_read_all_settings (PostgreSQL hides them from pg_settings altogether);
 * pg_hba_file_rules only as superuser or after GRANT SELECT on the view and
 * EXECUTE on its function.  What the role may not read is recorded as
 * DBSSL_SI_NOT_CHECKED with the privilege it needs, never as a value: the
 * audit and the health endpoint say "not checked", never "passed".
 *
 * pg_hba_file_rules shows the file as it is on disk, which the server takes
 * into use at its next reload (pg_ctl reload, SELECT pg_reload_conf()).
 */
#ifndef DBSSL_SERVERINFO_H
#define DBSSL_SERVERINFO_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "error_int.h"

struct pg_conn; /* libpq's PGconn */

/* The settings read, in this order (serverinfo.c). */
#define DBSSL_SERVERINFO_NSETTINGS 10

/*
 * How often the health checker reads them again: every this many checks or
 * this many seconds, whichever comes first (and on every new connection),
 * never on every check - they change at a server reload, and reading
 * pg_hba_file_rules parses the file.
 */
#define DBSSL_SERVERINFO_REFRESH_CHECKS  10
#define DBSSL_SERVERINFO_REFRESH_SECONDS 300

/* More rules than any real pg_hba.conf; the rest is not read (truncated). */
#define DBSSL_SERVERINFO_MAX_RULES 2048

/* The privileges that make the rest readable, as the messages name them. */
#define DBSSL_SI_PRIV_SETTINGS "pg_read_all_settings (or superuser)"
#define DBSSL_SI_PRIV_HBA                                                                          \
    "superuser, or SELECT on pg_hba_file_rules and EXECUTE on function pg_hba_file_rules()"

enum dbssl_si_state {
    DBSSL_SI_READ = 0,    /* "read" */
    DBSSL_SI_NOT_CHECKED, /* "not_checked": the role may not read it (privilege says which) */
    DBSSL_SI_ABSENT,      /* "absent": this server version has no such setting */
    DBSSL_SI_FAILED,      /* "failed": the query failed (note says why) */
};

/* "read", "not_checked", "absent", "failed"; NULL-terminated, indexed by the enum. */
extern const char *const dbssl_si_state_names[];

struct dbssl_server_setting {
    char name[40];
    int state; /* enum dbssl_si_state */
    char value[1024];
    char privilege[128]; /* what would make it readable, "" when read */
};

/* One line of pg_hba.conf as pg_hba_file_rules parses it. */
struct dbssl_hba_rule {
    int line_number;
    char type[16];      /* local, host, hostssl, hostnossl, hostgssenc, hostnogssenc */
    char database[256]; /* the list, comma-separated */
    char user_name[256];
    char address[256]; /* "" for local; an address, "all", "samehost", "samenet" or a name */
    char netmask[64];  /* "" when the address carries none (CIDR written, or a keyword) */
    char auth_method[32];
    char options[512]; /* "clientcert=verify-full map=x", space-separated */
    char error[256];   /* why PostgreSQL cannot use the line, "" when it can */
    char line[1024];   /* the line as written when the file was readable, else rebuilt */
    bool verbatim;     /* line is the file's own text */
};

struct dbssl_serverinfo {
    long long read_at;
    char role[128]; /* current_user */
    bool superuser;
    bool read_all_settings; /* has the privileges of pg_read_all_settings */
    int server_version_num; /* e.g. 150010 */

    struct dbssl_server_setting *settings;
    size_t n_settings;

    int hba_state;      /* enum dbssl_si_state */
    char hba_note[512]; /* why not read: the privilege needed, or the query's error */
    bool hba_truncated; /* more than DBSSL_SERVERINFO_MAX_RULES rules */
    struct dbssl_hba_rule *hba;
    size_t n_hba;
};

/*
 * Reads the settings and rules over conn (a connection dbssl_connect()
 * made), each query bounded by timeout_s.  What the role may not read is
 * marked, not an error.  -1 with err only when the connection fails (lost,
 * timed out) or out of memory.  Free out with dbssl_serverinfo_free().
 */
int dbssl_serverinfo_read(struct pg_conn *conn, long timeout_s, struct dbssl_serverinfo *out,
                          struct dbssl_error *err) DBSSL_MUSTCHECK;

void dbssl_serverinfo_free(struct dbssl_serverinfo *si);

/*
 * Whether settings read at read_at (0: never), checks checks ago, are due
 * to be read again at now.
 */
bool dbssl_serverinfo_due(long long read_at, unsigned checks, long long now);

/* The setting called name, or NULL. */
const struct dbssl_server_setting *dbssl_serverinfo_setting(const struct dbssl_serverinfo *si,
                                                            const char *name);

/* The JSON form (a new reference) and back (for tests and kept evidence). */
json_t *dbssl_serverinfo_to_json(const struct dbssl_serverinfo *si);
int dbssl_serverinfo_from_json(const json_t *j, struct dbssl_serverinfo *out,
                               struct dbssl_error *err) DBSSL_MUSTCHECK;

/*
 * A pg_hba.conf line rebuilt from a rule's fields, as PostgreSQL would read
 * it back: "host all all 0.0.0.0/0 scram-sha-256" (an address with a
 * netmask is written in CIDR form when the mask is contiguous).
 */
void dbssl_hba_rule_rebuild(const struct dbssl_hba_rule *r, char *out, size_t len);

/* The address part of that line: "0.0.0.0/0", "10.0.0.0 255.0.255.0", "samenet", "". */
void dbssl_hba_rule_address(const struct dbssl_hba_rule *r, char *out, size_t len);

/*
 * A rule's netmask, bit by bit.  PostgreSQL matches a client's address
 * against a rule's address under its mask bit by bit, so it takes any mask;
 * only a contiguous one (ones, then zeros) has a prefix length.
 */
struct dbssl_hba_netmask {
    size_t bytes;     /* 4 (IPv4) or 16 (IPv6) */
    int leading_ones; /* the bits fixed at the start: every address matched shares them */
    int prefix;       /* the prefix length ("/24"); -1 when the mask is not contiguous */
};

/* Reads mask (an IPv4 or IPv6 address as text); false when it is neither. */
bool dbssl_hba_netmask_parse(const char *mask, struct dbssl_hba_netmask *out) DBSSL_MUSTCHECK;

#endif
