/*
 * certs_files.c - the generated set on disk: deciding what to (re)issue and
 * issuing it into the set's directory.
 *
 * Files of DB_SSL_AUTO_CERT_DIR (created 0700; 0711 with --owner so that the
 * server's user can reach its two files without listing the directory):
 *   ca.crt ca.key server.crt server.key [client.crt client.key]   the set
 *   .lock                                                        flock(2)
 *   .pending/                                                    staging
 *   .facts        what a full check found the files to hold (certfacts.h),
 *                 so that the next process need not parse unchanged files
 *
 * Keys are created 0600 by open(O_CREAT|O_EXCL, 0600) and certificates 0644,
 * each fsync'ed, so no key is ever readable by others, not even for a moment.
 *
 * The directory is opened once by safedir_open() (refused unless only we or
 * root can change it and those above it; never a symlink) and everything in
 * it is read and written relative to that descriptor without following a
 * symlink; the swap of new files into it is in certs_swap.c.
 *
 * Only the units that need it are re-issued: a missing or expiring client
 * pair is re-signed by the existing CA; a new CA re-issues every leaf.
 */
#include "certs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "certfacts.h"
#include "certinfo.h"
#include "clock.h"
#include "expiry.h"
#include "safedir.h"
#include "util.h"
#include "validate.h"

static const char *const file_names[DBSSL_CERTS_NFILES] = {
    DBSSL_SET_CA_CRT,     DBSSL_SET_CA_KEY,     DBSSL_SET_SERVER_CRT,
    DBSSL_SET_SERVER_KEY, DBSSL_SET_CLIENT_CRT, DBSSL_SET_CLIENT_KEY,
};

const char *dbssl_certs_file_name(enum dbssl_certs_file f)
{
    return (unsigned)f < DBSSL_CERTS_NFILES ? file_names[f] : "?";
}

bool certs_is_key_file(int f)
{
    return f == DBSSL_CERTS_CA_KEY || f == DBSSL_CERTS_SERVER_KEY || f == DBSSL_CERTS_CLIENT_KEY;
}

int certs_file_index(const char *name)
{
    for (int i = 0; i < DBSSL_CERTS_NFILES; i++)
        if (strcmp(file_names[i], name) == 0)
            return i;
    return -1;
}

void dbssl_certs_opts_from_config(const struct dbssl_config *cfg, struct dbssl_certs_opts *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->dir =
        cfg->auto_cert_dir ? cfg->auto_cert_dir : dbssl_options[OPT_DB_SSL_AUTO_CERT_DIR].def;
    opts->days = cfg->auto_cert_validity_days;
    opts->key_type = cfg->auto_key_type;
    opts->with_ca = cfg->auto_generate_ca;
    /* user-supplied client files win: never generate a pair that would not be used */
    opts->with_client =
        cfg->auto_generate_client && cfg->client_cert == NULL && cfg->client_key == NULL;
    opts->client_cn = cfg->url.user;
    opts->url_hosts = cfg->url.host;
    opts->url_hostaddr = cfg->url.hostaddr;
    opts->extra_hosts = cfg->auto_cert_hosts;
    opts->renew_within_days = cfg->expiry_warn_days;
}

/* ---- deciding what to issue -------------------------------------------------- */

enum unit { UNIT_CA = 0, UNIT_SERVER, UNIT_CLIENT, NUNITS };

struct plan {
    bool need[NUNITS];
    char why[NUNITS][160];
    bool bundle; /* rewrite ca.crt as the bundle of self-signed leaves (no CA) */
    char bundle_why[160];
};

static void needs(struct plan *p, enum unit u, const char *fmt, ...) DBSSL_PRINTF(3, 4);

/* Marks unit u for issuing; the first reason is the one reported. */
static void needs(struct plan *p, enum unit u, const char *fmt, ...)
{
    va_list ap;

    if (p->need[u])
        return;
    p->need[u] = true;
    va_start(ap, fmt);
    vsnprintf(p->why[u], sizeof(p->why[u]), fmt, ap);
    va_end(ap);
}

/* Something has the name (a symlink too: it is then replaced, never followed). */
static bool exists(const struct certs_dir *d, int f)
{
    struct stat st;

    return fstatat(d->fd, file_names[f], &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/*
 * Whether a generated certificate is due for renewal: expired, or past
 * expiry.h's renewal time (two thirds of its lifetime, or the
 * DB_SSL_EXPIRY_WARN_DAYS window if that comes first), the time serve's
 * renewal uses too; or made with another key type than asked for.
 */
static bool due(const struct dbssl_certinfo *ci, const struct dbssl_certs_opts *o, char *why,
                size_t len)
{
    long long now = dbssl_now(), life = ci->not_after - ci->not_before;
    long window = dbssl_expiry_renew_window(o->days, o->renew_within_days);
    enum dbssl_expiry_state st = dbssl_expiry_state(ci->not_before, ci->not_after, now, window);
    const char *want_type;
    int want_bits;

    if (st == DBSSL_EXPIRY_EXPIRED) {
        char when[32];
        format_rfc3339(ci->not_after, when, sizeof(when));
        snprintf(why, len, "expired on %s", when);
        return true;
    }
    if (life > 0 && now >= dbssl_expiry_renew_at(ci->not_before, ci->not_after, window)) {
        long long days = dbssl_expiry_days_left(ci->not_after, now);
        if (st == DBSSL_EXPIRY_EXPIRING)
            snprintf(why, len, "expires in %lld day%s", days, days == 1 ? "" : "s");
        else
            snprintf(why, len, "past two thirds of its lifetime");
        return true;
    }
    certs_key_type_info(o->key_type, &want_type, &want_bits);
    if (strcmp(ci->key_type, want_type) != 0 || ci->key_bits != want_bits) {
        snprintf(why, len, "key is %s %d, DB_SSL_AUTO_KEY_TYPE asks for %s", ci->key_type,
                 ci->key_bits, dbssl_option_choice(OPT_DB_SSL_AUTO_KEY_TYPE, (int)o->key_type));
        return true;
    }
    return false;
}

/* Every required name appears among the certificate's SANs. */
static const char *missing_name(const char *sans, char *const *names)
{
    for (size_t i = 0; names[i]; i++) {
        bool found = false;
        for (const char *p = sans; *p && !found;) {
            size_t n = strcspn(p, ",");
            found = n == strlen(names[i]) && strncmp(p, names[i], n) == 0;
            p += n;
            while (*p == ',' || *p == ' ')
                p++;
        }
        if (!found)
            return names[i];
    }
    return NULL;
}

/*
 * What a check of the set reads with: the record of the last full check
 * (certfacts.h; NULL when there is none or it is not trusted), what this
 * check found good (the next record), and ca.crt as read once for the
 * whole set.
 */
struct assess {
    struct dbssl_certfacts *known;
    struct dbssl_certfacts *seen;
    const struct dbssl_certlist *cas; /* NULL when ca.crt is missing or unreadable */
    struct stat cas_st;
    bool all_known; /* every file read came from the record: nothing to write */
};

/*
 * Whether leaf is issued by ca.crt.  Both parsed: OpenSSL
 * verifies.  Both from the record: its verdict, which held for these very
 * two files.  One of each (a file changed between the check and the read):
 * both files verified afresh.
 */
static bool issued_by_ca(const struct certs_dir *d, int crt, const struct assess *a,
                         const struct dbssl_certinfo *leaf, const struct stat *leaf_st, char *why,
                         size_t whylen)
{
    char cpath[PATH_BUF], apath[PATH_BUF];
    struct dbssl_error e;
    bool ok = false;

    dbssl_error_clear(&e);
    if (a->cas == NULL)
        return false;
    if (leaf->x509 != NULL && a->cas->certs[0].x509 != NULL)
        return dbssl_cert_verify_in(leaf, a->cas, &ok, why, whylen, &e) == 0 && ok;
    if (leaf->x509 == NULL && a->cas->certs[0].x509 == NULL)
        return dbssl_certfacts_chain_ok(a->known, file_names[crt], leaf_st);
    struct file_at c = certs_dir_file(d, d->fd, file_names[crt], cpath, sizeof(cpath));
    struct file_at ca =
        certs_dir_file(d, d->fd, file_names[DBSSL_CERTS_CA_CRT], apath, sizeof(apath));
    return dbssl_cert_verify_chain_at(&c, &ca, &ok, why, whylen, &e) == 0 && ok;
}

/*
 * Checks one existing pair; says why it must be issued again, or nothing.
 * The CA pair's certificate is a->cas, read once for the whole set, so that
 * no file is parsed twice.  A pair found good is noted in a->seen.
 */
static void assess_pair(const struct certs_dir *d, enum unit u, int crt,
                        const struct dbssl_certs_opts *o, char *const *names, const char *cn,
                        struct assess *a, struct plan *p)
{
    char cpath[PATH_BUF], kpath[PATH_BUF], why[160];
    struct file_at c = certs_dir_file(d, d->fd, file_names[crt], cpath, sizeof(cpath));
    struct file_at k = certs_dir_file(d, d->fd, file_names[crt + 1], kpath, sizeof(kpath));
    struct dbssl_certlist read = {NULL, 0};
    const struct dbssl_certlist *list = &read;
    struct dbssl_keyinfo key;
    struct dbssl_error e;
    struct stat cst, kst;
    bool match = false, hit = true, chain_ok = false;

    dbssl_error_clear(&e);
    if (!exists(d, crt) || !exists(d, crt + 1)) {
        needs(p, u, "%s is missing", file_names[exists(d, crt) ? crt + 1 : crt]);
        return;
    }
    if (u == UNIT_CA && a->cas != NULL) {
        list = a->cas;
        cst = a->cas_st;
    } else if (dbssl_certlist_load_known(a->known, &c, "certificate file", &read, &cst, &hit, &e) !=
               0) {
        needs(p, u, "unreadable: %s", e.message);
        goto out;
    }
    a->all_known = a->all_known && hit;
    /* the key is matched against the certificate just read, not a second parse of it */
    if (dbssl_key_load_known(a->known, &k, NULL, &list->certs[0], &key, &match, &kst, &hit, &e) !=
        0) {
        needs(p, u, "unreadable: %s", e.message);
        goto out;
    }
    a->all_known = a->all_known && hit;
    if (!match) {
        needs(p, u, "%s", "key does not match the certificate");
        goto out;
    }
    if (due(&list->certs[0], o, why, sizeof(why))) {
        needs(p, u, "%s", why);
        goto out;
    }
    if (u == UNIT_CA) {
        if (!list->certs[0].is_ca)
            needs(p, u, "%s", "not a CA certificate");
        goto good;
    }
    if (o->with_ca &&
        (!(chain_ok = issued_by_ca(d, crt, a, &list->certs[0], &cst, why, sizeof(why))) ||
         list->certs[0].self_signed)) {
        needs(p, u, "not issued by ca.crt");
        goto out;
    }
    if (!o->with_ca && !list->certs[0].self_signed) {
        needs(p, u, "%s", "not self-signed (DB_SSL_AUTO_GENERATE_CA=false)");
        goto out;
    }
    if (u == UNIT_SERVER && names != NULL) {
        const char *m = missing_name(list->certs[0].sans, names);
        if (m != NULL)
            needs(p, u, "does not cover %s", m);
    }
    if (u == UNIT_CLIENT && strcmp(list->certs[0].common_name, cn) != 0)
        needs(p, u, "CN is not the database role \"%s\"", cn);
good:
    if (!p->need[u]) {
        if (u != UNIT_CA)
            dbssl_certfacts_note_certs(a->seen, file_names[crt], &cst, list, chain_ok);
        dbssl_certfacts_note_key(a->seen, file_names[crt + 1], &kst, &key, &list->certs[0]);
    }
out:
    dbssl_certlist_free(&read);
}

/* ---- generating -------------------------------------------------------------- */

static int read_pair(const struct certs_dir *d, int crt, struct certs_pem *pem,
                     struct dbssl_error *err)
{
    char path[PATH_BUF];
    struct file_at f = certs_dir_file(d, d->fd, file_names[crt], path, sizeof(path));

    if (read_file_at(&f, "certificate file", CONFIG_FILE_MAX, &pem->cert, &pem->cert_len, NULL,
                     err) != 0)
        return -1;
    if (crt + 1 < DBSSL_CERTS_NFILES && certs_is_key_file(crt + 1) && pem->key == NULL) {
        f = certs_dir_file(d, d->fd, file_names[crt + 1], path, sizeof(path));
        if (read_file_at(&f, "private key file", CONFIG_FILE_MAX, &pem->key, &pem->key_len, NULL,
                         err) != 0)
            return -1;
    }
    return 0;
}

static int resolve_owner(const char *owner, uid_t *uid, gid_t *gid, struct dbssl_error *err)
{
    const struct passwd *pw;

    *uid = (uid_t)-1;
    *gid = (gid_t)-1;
    if (owner == NULL)
        return 0;
    if (geteuid() != 0) {
        dbssl_error_set(err, DBSSL_ERR_USAGE,
                        "Run the command as root, or leave out --owner to keep the files "
                        "owned by you.",
                        "--owner \"%s\" needs root privileges", owner);
        return -1;
    }
    pw = getpwnam(owner);
    if (pw == NULL) {
        dbssl_error_set(err, DBSSL_ERR_USAGE,
                        "Name the user the PostgreSQL server runs as, usually \"postgres\".",
                        "user \"%s\" does not exist", owner);
        return -1;
    }
    *uid = pw->pw_uid;
    *gid = pw->pw_gid;
    return 0;
}

/* Gives an up-to-date server pair to --owner without rewriting it. */
static int chown_server_pair(const struct certs_dir *d, uid_t uid, gid_t gid, bool *changed,
                             struct dbssl_error *err)
{
    for (int f = DBSSL_CERTS_SERVER_CRT; f <= DBSSL_CERTS_SERVER_KEY; f++) {
        char path[PATH_BUF];
        struct stat st;
        certs_dir_path(d, file_names[f], path, sizeof(path));
        if (fstatat(d->fd, file_names[f], &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            (st.st_uid == uid && st.st_gid == gid))
            continue;
        if (fchownat(d->fd, file_names[f], uid, gid, AT_SYMLINK_NOFOLLOW) != 0) {
            dbssl_error_set(err, DBSSL_ERR_IO, NULL, "could not change owner of \"%s\": %s", path,
                            strerror(errno));
            return -1;
        }
        *changed = true;
    }
    return 0;
}

/*
 * The CA of o->ca_dir (certificate and key) into ca, read under that set's
 * lock so that a renewal there cannot hand us one CA's certificate with
 * another's key; *copy is set to ca's certificate when this set's ca.crt is
 * not that certificate already (ca owns the bytes).
 */
static int shared_ca(const struct dbssl_certs_opts *o, const struct certs_dir *dir,
                     struct certs_pem *ca, struct certs_staged *copy, struct dbssl_error *err)
{
    const struct safedir_names names = {"shared CA directory", "--ca-dir"};
    struct certs_dir shared = {-1, ""};
    char path[PATH_BUF], *cur = NULL;
    struct file_at f;
    int lockfd = -1, ret = -1;

    shared.fd = safedir_open(o->ca_dir, SAFEDIR_NO_LINK, 0700, &names, shared.path,
                             sizeof(shared.path), NULL, err);
    if (shared.fd < 0)
        goto out;
    if (!exists(&shared, DBSSL_CERTS_CA_CRT) || !exists(&shared, DBSSL_CERTS_CA_KEY)) {
        dbssl_error_set(err, DBSSL_ERR_CONFIG,
                        "Generate the shared set first (dbssl certs generate --dir with that "
                        "directory), then each host's set from it.",
                        "--ca-dir \"%s\" has no ca.crt and ca.key", shared.path);
        goto out;
    }
    if (strcmp(shared.path, dir->path) == 0) {
        dbssl_error_set(err, DBSSL_ERR_USAGE, "Give each host's set a directory of its own.",
                        "--ca-dir \"%s\" is the directory being generated", shared.path);
        goto out;
    }
    if ((lockfd = certs_dir_lock(&shared, err)) < 0 ||
        read_pair(&shared, DBSSL_CERTS_CA_CRT, ca, err) != 0)
        goto out;
    f = certs_dir_file(dir, dir->fd, file_names[DBSSL_CERTS_CA_CRT], path, sizeof(path));
    if (!exists(dir, DBSSL_CERTS_CA_CRT) ||
        read_file_at(&f, "certificate file", CONFIG_FILE_MAX, &cur, NULL, NULL, NULL) != 0 ||
        strcmp(cur, ca->cert) != 0)
        *copy = (struct certs_staged){ca->cert, ca->cert_len};
    ret = 0;
out:
    free(cur);
    if (lockfd >= 0)
        close(lockfd);
    if (shared.fd >= 0)
        close(shared.fd);
    return ret;
}

/* Decides, issues and swaps in; called with the lock held. */
static int update_set(const struct dbssl_certs_opts *o, const struct certs_dir *dir, uid_t uid,
                      gid_t gid, struct dbssl_certs_result *res, struct dbssl_error *err)
{
    struct plan p;
    struct certs_pem ca = {0}, server = {0}, client = {0};
    struct certs_staged out[DBSSL_CERTS_NFILES] = {{0}};
    struct strbuf bundle;
    struct certs_keys *keys = NULL;
    struct dbssl_certlist cas = {NULL, 0};
    struct file_at record = {dir->fd, DBSSL_CERTFACTS_FILE, NULL, FILE_AT_NOFOLLOW};
    struct assess a = {dbssl_certfacts_read(&record), dbssl_certfacts_new(), NULL, {0}, true};
    unsigned nkeys;
    char **names = NULL, cn[256];
    int ret = -1;

    memset(&p, 0, sizeof(p));
    strbuf_init(&bundle);
    if ((names = certs_server_names(o, err)) == NULL)
        goto out;
    if (o->with_client && certs_client_cn(o, cn, sizeof(cn), err) != 0)
        goto out;
    if (o->force) {
        for (int u = 0; u < NUNITS; u++)
            needs(&p, (enum unit)u, "%s", "--force");
    }
    if (o->with_ca && exists(dir, DBSSL_CERTS_CA_CRT)) {
        /* read once: the CA pair's certificate, and what the leaves chain to */
        char path[PATH_BUF];
        struct file_at f =
            certs_dir_file(dir, dir->fd, file_names[DBSSL_CERTS_CA_CRT], path, sizeof(path));
        bool hit = false;
        if (dbssl_certlist_load_known(a.known, &f, "certificate file", &cas, &a.cas_st, &hit,
                                      NULL) == 0) {
            a.cas = &cas;
            dbssl_certfacts_note_certs(a.seen, file_names[DBSSL_CERTS_CA_CRT], &a.cas_st, &cas,
                                       false);
        }
        a.all_known = a.all_known && hit;
    }
    if (o->ca_dir != NULL) {
        /* the shared CA signs; this set only holds a copy of its certificate */
        if (shared_ca(o, dir, &ca, &out[DBSSL_CERTS_CA_CRT], err) != 0)
            goto out;
        if (out[DBSSL_CERTS_CA_CRT].data != NULL) {
            needs(&p, UNIT_SERVER, "%s", "the shared CA is new");
            needs(&p, UNIT_CLIENT, "%s", "the shared CA is new");
            snprintf(p.bundle_why, sizeof(p.bundle_why), "copy of \"%s/ca.crt\"", o->ca_dir);
        }
        p.need[UNIT_CA] = false;
    } else if (o->with_ca) {
        assess_pair(dir, UNIT_CA, DBSSL_CERTS_CA_CRT, o, NULL, NULL, &a, &p);
        if (p.need[UNIT_CA]) {
            needs(&p, UNIT_SERVER, "%s", "the CA is new");
            needs(&p, UNIT_CLIENT, "%s", "the CA is new");
        }
    }
    assess_pair(dir, UNIT_SERVER, DBSSL_CERTS_SERVER_CRT, o, names, NULL, &a, &p);
    if (o->with_client)
        assess_pair(dir, UNIT_CLIENT, DBSSL_CERTS_CLIENT_CRT, o, NULL, cn, &a, &p);
    else
        p.need[UNIT_CLIENT] = false;
    if (!o->with_ca)
        p.need[UNIT_CA] = false;

    /* issue: the keys first, all at once, then each certificate in the set's order */
    nkeys =
        (unsigned)p.need[UNIT_CA] + (unsigned)p.need[UNIT_SERVER] + (unsigned)p.need[UNIT_CLIENT];
    if (nkeys > 0 && (keys = certs_keys_make(o->key_type, nkeys, err)) == NULL)
        goto out;
    if (o->with_ca && p.need[UNIT_CA] &&
        certs_issue(CERTS_KIND_CA, o, NULL, NULL, NULL, keys, &ca, err))
        goto out;
    if (o->with_ca && o->ca_dir == NULL && !p.need[UNIT_CA] &&
        (p.need[UNIT_SERVER] || p.need[UNIT_CLIENT]) &&
        read_pair(dir, DBSSL_CERTS_CA_CRT, &ca, err) != 0)
        goto out;
    if (p.need[UNIT_SERVER] && certs_issue(CERTS_KIND_SERVER, o, o->with_ca ? &ca : NULL, names,
                                           NULL, keys, &server, err) != 0)
        goto out;
    if (p.need[UNIT_CLIENT] && certs_issue(CERTS_KIND_CLIENT, o, o->with_ca ? &ca : NULL, NULL, cn,
                                           keys, &client, err) != 0)
        goto out;

    if (!o->with_ca) {
        /* ca.crt is what verifies the leaves: the self-signed leaves themselves */
        char path[PATH_BUF];
        struct file_at ca_file =
            certs_dir_file(dir, dir->fd, file_names[DBSSL_CERTS_CA_CRT], path, sizeof(path));
        char *cur = NULL;
        if (!p.need[UNIT_SERVER] && read_pair(dir, DBSSL_CERTS_SERVER_CRT, &server, err) != 0)
            goto out;
        if (o->with_client && !p.need[UNIT_CLIENT] &&
            read_pair(dir, DBSSL_CERTS_CLIENT_CRT, &client, err) != 0)
            goto out;
        strbuf_append_n(&bundle, server.cert, server.cert_len);
        if (o->with_client)
            strbuf_append_n(&bundle, client.cert, client.cert_len);
        if (read_file_at(&ca_file, "certificate file", CONFIG_FILE_MAX, &cur, NULL, NULL, NULL) !=
                0 ||
            bundle.oom || strcmp(cur, bundle.data) != 0) {
            p.bundle = true;
            snprintf(p.bundle_why, sizeof(p.bundle_why), "%s",
                     cur == NULL ? "missing" : "bundle of the self-signed certificates");
        }
        free(cur);
        if (p.bundle)
            out[DBSSL_CERTS_CA_CRT] = (struct certs_staged){bundle.data, bundle.len};
    }
    if (p.need[UNIT_CA]) {
        out[DBSSL_CERTS_CA_CRT] = (struct certs_staged){ca.cert, ca.cert_len};
        out[DBSSL_CERTS_CA_KEY] = (struct certs_staged){ca.key, ca.key_len};
    }
    if (p.need[UNIT_SERVER]) {
        out[DBSSL_CERTS_SERVER_CRT] = (struct certs_staged){server.cert, server.cert_len};
        out[DBSSL_CERTS_SERVER_KEY] = (struct certs_staged){server.key, server.key_len};
    }
    if (p.need[UNIT_CLIENT]) {
        out[DBSSL_CERTS_CLIENT_CRT] = (struct certs_staged){client.cert, client.cert_len};
        out[DBSSL_CERTS_CLIENT_KEY] = (struct certs_staged){client.key, client.key_len};
    }
    for (int f = 0; f < DBSSL_CERTS_NFILES; f++) {
        int u = f / 2;
        if (out[f].data == NULL)
            continue;
        res->written |= 1u << f;
        if (exists(dir, f))
            res->replaced |= 1u << f;
        snprintf(res->reason[f], sizeof(res->reason[f]), "%s",
                 (f == DBSSL_CERTS_CA_CRT && (!o->with_ca || o->ca_dir != NULL)) ? p.bundle_why
                                                                                 : p.why[u]);
    }
    if (res->written != 0 && certs_dir_swap_in(dir, out, uid, gid, err) != 0)
        goto out;
    /* a set found good by a full check is recorded for the next one; the
     * record only saves work, so failing to write it changes nothing */
    if (res->written == 0 && !a.all_known && a.seen != NULL) {
        struct dbssl_error ignored;
        (void)!dbssl_certfacts_write(a.seen, dir->fd, &ignored);
    }
    ret = 0;
out:
    dbssl_certfacts_free(a.known);
    dbssl_certfacts_free(a.seen);
    dbssl_certlist_free(&cas);
    certs_keys_free(keys);
    certs_names_free(names);
    certs_pem_clear(&ca);
    certs_pem_clear(&server);
    certs_pem_clear(&client);
    strbuf_free(&bundle);
    return ret;
}

int dbssl_certs_generate(const struct dbssl_certs_opts *opts, struct dbssl_certs_result *res,
                         struct dbssl_error *err)
{
    const struct safedir_names names = {
        "certificate directory", opts->dir_named_by ? opts->dir_named_by : "DB_SSL_AUTO_CERT_DIR"};
    const struct dbssl_option *days = &dbssl_options[OPT_DB_SSL_AUTO_CERT_VALIDITY_DAYS];
    struct certs_dir d = {-1, ""};
    uid_t uid;
    gid_t gid;
    int lockfd = -1, ret = -1;

    memset(res, 0, sizeof(*res));
    snprintf(res->dir, sizeof(res->dir), "%s", opts->dir);
    if (resolve_owner(opts->owner, &uid, &gid, err) != 0)
        goto out;
    if (opts->days < days->min || opts->days > days->max) {
        char hint[80];
        snprintf(hint, sizeof(hint), "Use a whole number of days from %ld to %ld.", days->min,
                 days->max);
        dbssl_error_set(err, DBSSL_ERR_USAGE, hint, "invalid validity of %ld days", opts->days);
        goto out;
    }
    /* keys go there: only a directory no other user can change (safedir.h) */
    d.fd = safedir_open(opts->dir, SAFEDIR_CREATE | SAFEDIR_NO_LINK, 0700, &names, d.path,
                        sizeof(d.path), NULL, err);
    if (d.fd < 0)
        goto out;
    snprintf(res->dir, sizeof(res->dir), "%s", d.path);
    /* the server's user must reach its files; listing stays forbidden */
    if (opts->owner != NULL && fchmod(d.fd, 0711) != 0) {
        dbssl_error_set(err, DBSSL_ERR_IO, NULL, "could not change mode of \"%s\": %s", d.path,
                        strerror(errno));
        goto out;
    }
    if ((lockfd = certs_dir_lock(&d, err)) < 0)
        goto out;
    if (certs_dir_recover(&d, &res->recovered, err) != 0 ||
        update_set(opts, &d, uid, gid, res, err) != 0)
        goto out;
    if (opts->owner != NULL && chown_server_pair(&d, uid, gid, &res->owner_changed, err))
        goto out;
    res->up_to_date = res->written == 0;
    ret = 0;
out:
    if (lockfd >= 0)
        close(lockfd); /* releases the flock */
    if (d.fd >= 0)
        close(d.fd);
    return ret;
}

/* ---- settings-driven entry point ---------------------------------------------- */

static void note(struct dbssl_certs_result *res, const char *setting, const char *path,
                 const char *what)
{
    if (res->n_notes >= sizeof(res->notes) / sizeof(res->notes[0]))
        return;
    snprintf(res->notes[res->n_notes++], sizeof(res->notes[0]),
             "user-supplied certificate \"%s\" (%s) %s; it is not replaced: renew it with its "
             "issuer",
             path, setting, what);
}

void dbssl_certs_report_user_files(const struct dbssl_config *cfg, struct dbssl_certs_result *res)
{
    const char *settings[2] = {"DB_SSL_CA_CERT", "DB_SSL_CLIENT_CERT"};
    const char *paths[2] = {cfg->ca_cert, cfg->client_cert};
    long long now = dbssl_now();

    for (int i = 0; i < 2; i++) {
        struct dbssl_certlist list;
        struct dbssl_error e;
        char what[160], when[32];
        if (paths[i] == NULL)
            continue;
        dbssl_error_clear(&e);
        if (dbssl_certlist_load(paths[i], "certificate file", &list, &e) != 0) {
            snprintf(what, sizeof(what), "cannot be read");
            note(res, settings[i], paths[i], what);
            continue;
        }
        for (size_t k = 0; k < list.n; k++) {
            const struct dbssl_certinfo *ci = &list.certs[k];
            enum dbssl_expiry_state st =
                dbssl_expiry_state(ci->not_before, ci->not_after, now, cfg->expiry_warn_days);
            format_rfc3339(ci->not_after, when, sizeof(when));
            if (st == DBSSL_EXPIRY_EXPIRED)
                snprintf(what, sizeof(what), "expired on %s", when);
            else if (st == DBSSL_EXPIRY_EXPIRING)
                snprintf(what, sizeof(what), "expires in %lld days (on %s)",
                         dbssl_expiry_days_left(ci->not_after, now), when);
            else
                continue;
            note(res, settings[i], paths[i], what);
            break;
        }
        dbssl_certlist_free(&list);
    }
}

int dbssl_certs_ensure(const struct dbssl_config *cfg, struct dbssl_certs_result *res,
                       struct dbssl_error *err)
{
    static const int used[] = {OPT_DB_SSL_AUTO_GENERATE_CA, OPT_DB_SSL_AUTO_GENERATE_CLIENT,
                               OPT_DB_SSL_AUTO_CERT_DIR,    OPT_DB_SSL_AUTO_CERT_VALIDITY_DAYS,
                               OPT_DB_SSL_AUTO_CERT_HOSTS,  OPT_DB_SSL_AUTO_KEY_TYPE,
                               OPT_DB_SSL_EXPIRY_WARN_DAYS};
    struct dbssl_certs_opts opts;
    const char *refusal, *hint;

    memset(res, 0, sizeof(*res));
    res->up_to_date = true;
    if (!cfg->auto_generate || cfg->settings[OPT_DB_SSL_AUTO_GENERATE].error != NULL)
        return 0;
    for (size_t i = 0; i < sizeof(used) / sizeof(used[0]); i++) {
        if (cfg->settings[used[i]].error != NULL) {
            dbssl_error_setx(
                err, DBSSL_ERR_CONFIG, cfg->settings[used[i]].error, cfg->settings[used[i]].hint,
                "cannot generate certificates: %s is invalid", dbssl_options[used[i]].name);
            return -1;
        }
    }
    /*
     * The client certificate's CN and the server's names come from
     * DATABASE_URL: without a usable one, generating would replace a working
     * set with one for the wrong role and hosts.  Validation reports why.
     */
    if (cfg->database_url == NULL || !cfg->url.parsed) {
        dbssl_error_setx(err, DBSSL_ERR_CONFIG, cfg->database_url == NULL ? NULL : cfg->url.error,
                         "Set DATABASE_URL to a valid PostgreSQL URI.",
                         "cannot generate certificates: DATABASE_URL is %s",
                         cfg->database_url == NULL ? "not set" : "invalid");
        return -1;
    }
    if ((refusal = dbssl_autogen_refusal(cfg, &hint)) != NULL) {
        dbssl_error_set(err, DBSSL_ERR_CONFIG, hint, "%s", refusal);
        return -1;
    }
    dbssl_certs_opts_from_config(cfg, &opts);
    return dbssl_certs_generate(&opts, res, err);
}
