/*
 * certs_files.c - the generated set on disk: deciding what to (re)issue,
 * writing it safely, and the crash-safe swap.
 *
 * Files of DB_SSL_AUTO_CERT_DIR (created 0700; 0711 with --owner so that the
 * server's user can reach its two files without listing the directory):
 *   ca.crt ca.key server.crt server.key [client.crt client.key]   the set
 *   .lock                                                        flock(2)
 *   .pending/                                                    staging
 *
 * Keys are created 0600 by open(O_CREAT|O_EXCL, 0600) and certificates 0644,
 * each fsync'ed, so no key is ever readable by others, not even for a moment.
 *
 * THE SWAP.  The set must be complete or absent: a kill at any instant
 * leaves the previous complete set or the new complete set.  Renaming several
 * files is not atomic, so the swap is a small redo journal:
 *   1. every new file is written into a fresh .pending/ and fsync'ed;
 *   2. .pending/COMMIT (the list of names) is written to COMMIT.tmp,
 *      fsync'ed and renamed: this rename is the commit point;
 *   3. each listed file is renamed from .pending/ into the directory,
 *      the directory fsync'ed, then COMMIT and .pending/ removed.
 * Every run takes the lock and, before anything else, looks at .pending/:
 * without COMMIT the update never committed and .pending/ is discarded (the
 * old set was not touched); with COMMIT it is rolled forward, renaming the
 * files still in .pending/ (a missing one was already moved).  So after a
 * kill the next dbssl run (generate, ensure, validate) finds the old or the
 * new set, never a mix.  A reader that does not go through dbssl
 * (PostgreSQL itself) can see a mix only inside step 3's few renames, or
 * after a kill inside step 3 until the next dbssl run; it then fails to load
 * a mismatched pair rather than use it.
 *
 * Only the units that need it are re-issued: a missing or expiring client
 * pair is re-signed by the existing CA; a new CA re-issues every leaf.
 */
#include "certs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "certinfo.h"
#include "util.h"

#define PENDING         ".pending"
#define COMMIT          "COMMIT"
#define MANIFEST_HEADER "dbssl-certs 1\n"
#define LOCK_WAIT_MS    30000
#define PEM_MAX         (1024 * 1024)

static const char *const file_names[DBSSL_CERTS_NFILES] = {
    "ca.crt", "ca.key", "server.crt", "server.key", "client.crt", "client.key",
};

const char *dbssl_certs_file_name(enum dbssl_certs_file f)
{
    return (unsigned)f < DBSSL_CERTS_NFILES ? file_names[f] : "?";
}

static bool is_key_file(int f)
{
    return f == DBSSL_CERTS_CA_KEY || f == DBSSL_CERTS_SERVER_KEY || f == DBSSL_CERTS_CLIENT_KEY;
}

static int file_index(const char *name)
{
    for (int i = 0; i < DBSSL_CERTS_NFILES; i++)
        if (strcmp(file_names[i], name) == 0)
            return i;
    return -1;
}

void dbssl_certs_opts_from_config(const struct dbssl_config *cfg, struct dbssl_certs_opts *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->dir = cfg->auto_cert_dir ? cfg->auto_cert_dir : "./ssl_certs/db";
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

/* ---- file primitives --------------------------------------------------------- */

static void join(char *buf, size_t len, const char *dir, const char *name)
{
    snprintf(buf, len, "%s/%s", dir, name);
}

static int fsync_dir(const char *dir, struct dbssl_error *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int ret = -1;

    if (fd < 0 || fsync(fd) != 0) {
        dbssl_error_set(err, DBSSL_ERR_IO, NULL, "could not sync directory \"%s\": %s", dir,
                        strerror(errno));
        goto out;
    }
    ret = 0;
out:
    if (fd >= 0)
        close(fd);
    return ret;
}

/* mkdir -p; the last component gets mode, the parents 0755 (umask applies). */
static int make_dir(const char *dir, mode_t mode, const char *named_by, struct dbssl_error *err)
{
    char hint[160];
    char path[PATH_MAX];
    size_t n = strlen(dir);

    if (n == 0 || n >= sizeof(path)) {
        snprintf(hint, sizeof(hint), "Give %s a shorter path.", named_by);
        dbssl_error_set(err, DBSSL_ERR_CONFIG, hint,
                        "certificate directory \"%s\" is empty or too long", dir);
        return -1;
    }
    memcpy(path, dir, n + 1);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST) {
            snprintf(hint, sizeof(hint),
                     "Check the directory given by %s and that the user running dbssl may create "
                     "it.",
                     named_by);
            dbssl_error_set(err, DBSSL_ERR_IO, hint, "could not create directory \"%s\": %s", path,
                            strerror(errno));
            return -1;
        }
        *p = '/';
    }
    if (mkdir(path, mode) != 0 && errno != EEXIST) {
        snprintf(hint, sizeof(hint),
                 "Check the directory given by %s and that the user running dbssl may create it.",
                 named_by);
        dbssl_error_set(err, DBSSL_ERR_IO, hint,
                        "could not create certificate directory \"%s\": %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Takes the directory's lock, waiting a bounded time for another dbssl. */
static int lock_dir(const char *dir, struct dbssl_error *err)
{
    char path[PATH_MAX + 16];
    int fd;

    join(path, sizeof(path), dir, ".lock");
    fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        dbssl_error_set(err, DBSSL_ERR_IO, NULL, "could not open lock file \"%s\": %s", path,
                        strerror(errno));
        return -1;
    }
    for (int waited = 0; flock(fd, LOCK_EX | LOCK_NB) != 0; waited += 50) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        if ((errno != EWOULDBLOCK && errno != EINTR) || waited >= LOCK_WAIT_MS) {
            dbssl_error_set(err, DBSSL_ERR_IO,
                            "Another dbssl process is updating the certificates; try again when "
                            "it has finished.",
                            "could not lock \"%s\": %s", path,
                            errno == EWOULDBLOCK ? "timed out" : strerror(errno));
            close(fd);
            return -1;
        }
        nanosleep(&ts, NULL);
    }
    return fd;
}

/* Removes .pending/ and whatever it holds (only files of ours are ever there). */
static int discard_pending(const char *pending, struct dbssl_error *err)
{
    DIR *d = opendir(pending);
    struct dirent *de;
    char path[PATH_MAX + 300];

    if (d == NULL) {
        if (errno == ENOENT)
            return 0;
        dbssl_error_set(err, DBSSL_ERR_IO,
                        "It is dbssl's staging area for an interrupted update; remove it and run "
                        "\"dbssl certs generate\" again.",
                        "could not open staging directory \"%s\": %s", pending, strerror(errno));
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        join(path, sizeof(path), pending, de->d_name);
        unlink(path);
    }
    closedir(d);
    if (rmdir(pending) != 0 && errno != ENOENT) {
        dbssl_error_set(err, DBSSL_ERR_IO, NULL, "could not remove \"%s\": %s", pending,
                        strerror(errno));
        return -1;
    }
    return 0;
}

/* Step 3 of the swap (see the header comment); also the roll-forward of a recovery. */
static int roll_forward(const char *dir, const char *pending, struct dbssl_error *err)
{
    char commit[PATH_MAX + 16], from[PATH_MAX + 16], to[PATH_MAX + 16];
    char *manifest = NULL, *line, *next;
    int ret = -1;

    join(commit, sizeof(commit), pending, COMMIT);
    if (read_file(commit, "certificate update journal", 4096, &manifest, NULL, err) != 0)
        goto out;
    if (strncmp(manifest, MANIFEST_HEADER, strlen(MANIFEST_HEADER)) != 0) {
        dbssl_error_set(err, DBSSL_ERR_IO, "Remove the directory's .pending/ and run again.",
                        "certificate update journal \"%s\" is damaged", commit);
        goto out;
    }
    for (line = manifest + strlen(MANIFEST_HEADER); *line; line = next) {
        next = line + strcspn(line, "\n");
        if (*next == '\n')
            *next++ = '\0';
        if (file_index(line) < 0)
            continue; /* only our own names are ever moved */
        join(from, sizeof(from), pending, line);
        join(to, sizeof(to), dir, line);
        if (rename(from, to) != 0 && errno != ENOENT) {
            dbssl_error_set(err, DBSSL_ERR_IO, NULL, "could not rename \"%s\" to \"%s\": %s", from,
                            to, strerror(errno));
            goto out;
        }
    }
    if (fsync_dir(dir, err) != 0)
        goto out;
    unlink(commit);
    if (discard_pending(pending, err) != 0 || fsync_dir(dir, err) != 0)
        goto out;
    ret = 0;
out:
    free(manifest);
    return ret;
}

/* Completes or discards an update a killed process left behind. */
static int recover(const char *dir, bool *recovered, struct dbssl_error *err)
{
    char pending[PATH_MAX + 16], commit[PATH_MAX + 32];
    struct stat st;

    join(pending, sizeof(pending), dir, PENDING);
    if (lstat(pending, &st) != 0)
        return 0;
    *recovered = true;
    join(commit, sizeof(commit), pending, COMMIT);
    if (stat(commit, &st) == 0)
        return roll_forward(dir, pending, err);
    return discard_pending(pending, err) == 0 ? fsync_dir(dir, err) : -1;
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

static bool exists(const char *dir, int f)
{
    char path[PATH_MAX + 16];
    struct stat st;

    join(path, sizeof(path), dir, file_names[f]);
    return stat(path, &st) == 0;
}

/*
 * Whether a generated certificate is due for renewal.  The "within
 * DB_SSL_EXPIRY_WARN_DAYS" rule only applies when the configured validity is
 * longer than that window; otherwise every fresh certificate would be due and
 * each run would replace the set.
 */
static bool due(const struct dbssl_certinfo *ci, const struct dbssl_certs_opts *o, char *why,
                size_t len)
{
    long long now = now_epoch(), life = ci->not_after - ci->not_before;
    const char *want_type;
    int want_bits;

    if (ci->not_after <= now) {
        char when[32];
        format_rfc3339(ci->not_after, when, sizeof(when));
        snprintf(why, len, "expired on %s", when);
        return true;
    }
    if (o->days > o->renew_within_days && ci->not_after - now < o->renew_within_days * 86400LL) {
        long long days = (ci->not_after - now) / 86400;
        snprintf(why, len, "expires in %lld day%s", days, days == 1 ? "" : "s");
        return true;
    }
    if (life > 0 && (now - ci->not_before) * 3 >= life * 2) {
        snprintf(why, len, "past two thirds of its lifetime");
        return true;
    }
    certs_key_type_info(o->key_type, &want_type, &want_bits);
    if (strcmp(ci->key_type, want_type) != 0 || ci->key_bits != want_bits) {
        snprintf(why, len, "key is %s %d, DB_SSL_AUTO_KEY_TYPE asks for %s", ci->key_type,
                 ci->key_bits, dbssl_key_type_name(o->key_type));
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

/* Checks one existing pair; says why it must be issued again, or nothing. */
static void assess_pair(const char *dir, enum unit u, int crt, const struct dbssl_certs_opts *o,
                        char *const *names, const char *cn, struct plan *p)
{
    char cpath[PATH_MAX + 16], kpath[PATH_MAX + 16], capath[PATH_MAX + 16], why[160];
    struct dbssl_certlist list = {NULL, 0};
    struct dbssl_error e;
    bool match = false, ok = false;

    join(cpath, sizeof(cpath), dir, file_names[crt]);
    join(kpath, sizeof(kpath), dir, file_names[crt + 1]);
    join(capath, sizeof(capath), dir, file_names[DBSSL_CERTS_CA_CRT]);
    dbssl_error_clear(&e);
    if (!exists(dir, crt) || !exists(dir, crt + 1)) {
        needs(p, u, "%s is missing", file_names[exists(dir, crt) ? crt + 1 : crt]);
        return;
    }
    if (dbssl_certlist_load(cpath, "certificate file", &list, &e) != 0 ||
        dbssl_key_matches_cert(cpath, kpath, &match, &e) != 0) {
        needs(p, u, "unreadable: %s", e.message);
        goto out;
    }
    if (!match) {
        needs(p, u, "%s", "key does not match the certificate");
        goto out;
    }
    if (due(&list.certs[0], o, why, sizeof(why))) {
        needs(p, u, "%s", why);
        goto out;
    }
    if (u == UNIT_CA) {
        if (!list.certs[0].is_ca)
            needs(p, u, "%s", "not a CA certificate");
        goto out;
    }
    if (o->with_ca && (dbssl_cert_verify_chain(cpath, capath, &ok, why, sizeof(why), &e) != 0 ||
                       !ok || list.certs[0].self_signed)) {
        needs(p, u, "not issued by ca.crt");
        goto out;
    }
    if (!o->with_ca && !list.certs[0].self_signed) {
        needs(p, u, "%s", "not self-signed (DB_SSL_AUTO_GENERATE_CA=false)");
        goto out;
    }
    if (u == UNIT_SERVER && names != NULL) {
        const char *m = missing_name(list.certs[0].sans, names);
        if (m != NULL)
            needs(p, u, "does not cover %s", m);
    }
    if (u == UNIT_CLIENT && strcmp(list.certs[0].common_name, cn) != 0)
        needs(p, u, "CN is not the database role \"%s\"", cn);
out:
    dbssl_certlist_free(&list);
}

/* ---- generating -------------------------------------------------------------- */

struct staged {
    const char *data;
    size_t len;
};

static int read_pair(const char *dir, int crt, struct certs_pem *pem, struct dbssl_error *err)
{
    char path[PATH_MAX + 16];

    join(path, sizeof(path), dir, file_names[crt]);
    if (read_file(path, "certificate file", PEM_MAX, &pem->cert, &pem->cert_len, err) != 0)
        return -1;
    if (crt + 1 < DBSSL_CERTS_NFILES && is_key_file(crt + 1) && pem->key == NULL) {
        join(path, sizeof(path), dir, file_names[crt + 1]);
        if (read_file(path, "private key file", PEM_MAX, &pem->key, &pem->key_len, err) != 0)
            return -1;
    }
    return 0;
}

/* Steps 1-3 of the swap for the files in out[] that have data. */
static int swap_in(const char *dir, const struct staged *out, uid_t uid, gid_t gid,
                   struct dbssl_error *err)
{
    char pending[PATH_MAX + 16], path[PATH_MAX + 32], tmp[PATH_MAX + 32];
    struct strbuf manifest;
    bool committed = false;
    int ret = -1;

    strbuf_init(&manifest);
    strbuf_append(&manifest, MANIFEST_HEADER);
    join(pending, sizeof(pending), dir, PENDING);
    if (mkdir(pending, 0700) != 0) {
        dbssl_error_set(err, DBSSL_ERR_IO, NULL, "could not create directory \"%s\": %s", pending,
                        strerror(errno));
        goto out;
    }
    for (int f = 0; f < DBSSL_CERTS_NFILES; f++) {
        bool server = f == DBSSL_CERTS_SERVER_CRT || f == DBSSL_CERTS_SERVER_KEY;
        if (out[f].data == NULL)
            continue;
        join(path, sizeof(path), pending, file_names[f]);
        if (write_file_new(path, out[f].data, out[f].len, is_key_file(f) ? 0600 : 0644,
                           server ? uid : (uid_t)-1, gid, err) != 0)
            goto out;
        strbuf_printf(&manifest, "%s\n", file_names[f]);
    }
    join(tmp, sizeof(tmp), pending, COMMIT ".tmp");
    join(path, sizeof(path), pending, COMMIT);
    if (manifest.oom) {
        dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
        goto out;
    }
    if (fsync_dir(pending, err) != 0 ||
        write_file_new(tmp, manifest.data, manifest.len, 0600, (uid_t)-1, (gid_t)-1, err) != 0)
        goto out;
    if (rename(tmp, path) != 0) { /* the commit point */
        dbssl_error_set(err, DBSSL_ERR_IO, NULL, "could not rename \"%s\": %s", tmp,
                        strerror(errno));
        goto out;
    }
    committed = true;
    if (fsync_dir(pending, err) != 0 || roll_forward(dir, pending, err) != 0)
        goto out;
    ret = 0;
out:
    if (ret != 0 && !committed) {
        struct dbssl_error ignored;
        discard_pending(pending, &ignored); /* not committed: leave the old set alone */
    }
    strbuf_free(&manifest);
    return ret;
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
static int chown_server_pair(const char *dir, uid_t uid, gid_t gid, bool *changed,
                             struct dbssl_error *err)
{
    for (int f = DBSSL_CERTS_SERVER_CRT; f <= DBSSL_CERTS_SERVER_KEY; f++) {
        char path[PATH_MAX + 16];
        struct stat st;
        join(path, sizeof(path), dir, file_names[f]);
        if (lstat(path, &st) != 0 || (st.st_uid == uid && st.st_gid == gid))
            continue;
        if (lchown(path, uid, gid) != 0) {
            dbssl_error_set(err, DBSSL_ERR_IO, NULL, "could not change owner of \"%s\": %s", path,
                            strerror(errno));
            return -1;
        }
        *changed = true;
    }
    return 0;
}

/* Decides, issues and swaps in; called with the lock held. */
static int update_set(const struct dbssl_certs_opts *o, uid_t uid, gid_t gid,
                      struct dbssl_certs_result *res, struct dbssl_error *err)
{
    struct plan p;
    struct certs_pem ca = {0}, server = {0}, client = {0};
    struct staged out[DBSSL_CERTS_NFILES] = {{0}};
    struct strbuf bundle;
    char **names = NULL, cn[256];
    const char *dir = o->dir;
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
    if (o->with_ca) {
        assess_pair(dir, UNIT_CA, DBSSL_CERTS_CA_CRT, o, NULL, NULL, &p);
        if (p.need[UNIT_CA]) {
            needs(&p, UNIT_SERVER, "%s", "the CA is new");
            needs(&p, UNIT_CLIENT, "%s", "the CA is new");
        }
    }
    assess_pair(dir, UNIT_SERVER, DBSSL_CERTS_SERVER_CRT, o, names, NULL, &p);
    if (o->with_client)
        assess_pair(dir, UNIT_CLIENT, DBSSL_CERTS_CLIENT_CRT, o, NULL, cn, &p);
    else
        p.need[UNIT_CLIENT] = false;
    if (!o->with_ca)
        p.need[UNIT_CA] = false;

    /* issue */
    if (o->with_ca && p.need[UNIT_CA] && certs_issue(CERTS_KIND_CA, o, NULL, NULL, NULL, &ca, err))
        goto out;
    if (o->with_ca && !p.need[UNIT_CA] && (p.need[UNIT_SERVER] || p.need[UNIT_CLIENT]) &&
        read_pair(dir, DBSSL_CERTS_CA_CRT, &ca, err) != 0)
        goto out;
    if (p.need[UNIT_SERVER] &&
        certs_issue(CERTS_KIND_SERVER, o, o->with_ca ? &ca : NULL, names, NULL, &server, err) != 0)
        goto out;
    if (p.need[UNIT_CLIENT] &&
        certs_issue(CERTS_KIND_CLIENT, o, o->with_ca ? &ca : NULL, NULL, cn, &client, err) != 0)
        goto out;

    if (!o->with_ca) {
        /* ca.crt is what verifies the leaves: the self-signed leaves themselves */
        char path[PATH_MAX + 16];
        char *cur = NULL;
        if (!p.need[UNIT_SERVER] && read_pair(dir, DBSSL_CERTS_SERVER_CRT, &server, err) != 0)
            goto out;
        if (o->with_client && !p.need[UNIT_CLIENT] &&
            read_pair(dir, DBSSL_CERTS_CLIENT_CRT, &client, err) != 0)
            goto out;
        strbuf_append_n(&bundle, server.cert, server.cert_len);
        if (o->with_client)
            strbuf_append_n(&bundle, client.cert, client.cert_len);
        join(path, sizeof(path), dir, file_names[DBSSL_CERTS_CA_CRT]);
        if (read_file(path, "certificate file", PEM_MAX, &cur, NULL, NULL) != 0 || bundle.oom ||
            strcmp(cur, bundle.data) != 0) {
            p.bundle = true;
            snprintf(p.bundle_why, sizeof(p.bundle_why), "%s",
                     cur == NULL ? "missing" : "bundle of the self-signed certificates");
        }
        free(cur);
        if (p.bundle)
            out[DBSSL_CERTS_CA_CRT] = (struct staged){bundle.data, bundle.len};
    }
    if (p.need[UNIT_CA]) {
        out[DBSSL_CERTS_CA_CRT] = (struct staged){ca.cert, ca.cert_len};
        out[DBSSL_CERTS_CA_KEY] = (struct staged){ca.key, ca.key_len};
    }
    if (p.need[UNIT_SERVER]) {
        out[DBSSL_CERTS_SERVER_CRT] = (struct staged){server.cert, server.cert_len};
        out[DBSSL_CERTS_SERVER_KEY] = (struct staged){server.key, server.key_len};
    }
    if (p.need[UNIT_CLIENT]) {
        out[DBSSL_CERTS_CLIENT_CRT] = (struct staged){client.cert, client.cert_len};
        out[DBSSL_CERTS_CLIENT_KEY] = (struct staged){client.key, client.key_len};
    }
    for (int f = 0; f < DBSSL_CERTS_NFILES; f++) {
        int u = f / 2;
        if (out[f].data == NULL)
            continue;
        res->written |= 1u << f;
        if (exists(dir, f))
            res->replaced |= 1u << f;
        snprintf(res->reason[f], sizeof(res->reason[f]), "%s",
                 (f == DBSSL_CERTS_CA_CRT && !o->with_ca) ? p.bundle_why : p.why[u]);
    }
    if (res->written != 0 && swap_in(dir, out, uid, gid, err) != 0)
        goto out;
    ret = 0;
out:
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
    uid_t uid;
    gid_t gid;
    int lockfd = -1, ret = -1;

    memset(res, 0, sizeof(*res));
    snprintf(res->dir, sizeof(res->dir), "%s", opts->dir);
    if (resolve_owner(opts->owner, &uid, &gid, err) != 0)
        goto out;
    if (opts->days < 1 || opts->days > 3650) {
        dbssl_error_set(err, DBSSL_ERR_USAGE, "Use a whole number of days from 1 to 3650.",
                        "invalid validity of %ld days", opts->days);
        goto out;
    }
    if (make_dir(opts->dir, 0700, opts->dir_named_by ? opts->dir_named_by : "DB_SSL_AUTO_CERT_DIR",
                 err) != 0)
        goto out;
    if (realpath(opts->dir, res->dir) == NULL)
        snprintf(res->dir, sizeof(res->dir), "%s", opts->dir);
    /* the server's user must reach its files; listing stays forbidden */
    if (opts->owner != NULL && chmod(opts->dir, 0711) != 0) {
        dbssl_error_set(err, DBSSL_ERR_IO, NULL, "could not change mode of \"%s\": %s", opts->dir,
                        strerror(errno));
        goto out;
    }
    if ((lockfd = lock_dir(opts->dir, err)) < 0)
        goto out;
    if (recover(opts->dir, &res->recovered, err) != 0 || update_set(opts, uid, gid, res, err) != 0)
        goto out;
    if (opts->owner != NULL && chown_server_pair(opts->dir, uid, gid, &res->owner_changed, err))
        goto out;
    res->up_to_date = res->written == 0;
    ret = 0;
out:
    if (lockfd >= 0)
        close(lockfd); /* releases the flock */
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
    long long now = now_epoch();

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
            long long left = list.certs[k].not_after - now;
            format_rfc3339(list.certs[k].not_after, when, sizeof(when));
            if (left <= 0)
                snprintf(what, sizeof(what), "expired on %s", when);
            else if (left < cfg->expiry_warn_days * 86400LL)
                snprintf(what, sizeof(what), "expires in %lld days (on %s)", left / 86400, when);
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

    memset(res, 0, sizeof(*res));
    res->up_to_date = true;
    if (!cfg->auto_generate || cfg->settings[OPT_DB_SSL_AUTO_GENERATE].error != NULL) {
        dbssl_certs_report_user_files(cfg, res);
        return 0;
    }
    for (size_t i = 0; i < sizeof(used) / sizeof(used[0]); i++) {
        if (cfg->settings[used[i]].error != NULL) {
            dbssl_error_set(err, DBSSL_ERR_CONFIG, cfg->settings[used[i]].hint,
                            "cannot generate certificates: %s: %s", dbssl_options[used[i]].name,
                            cfg->settings[used[i]].error);
            return -1;
        }
    }
    /*
     * The client certificate's CN and the server's names come from
     * DATABASE_URL: without a usable one, generating would replace a working
     * set with one for the wrong role and hosts.  Validation reports why.
     */
    if (cfg->database_url == NULL || !cfg->url.parsed) {
        dbssl_error_set(err, DBSSL_ERR_CONFIG, "Set DATABASE_URL to a valid PostgreSQL URI.",
                        "cannot generate certificates: DATABASE_URL is %s",
                        cfg->database_url == NULL ? "not set" : "invalid");
        return -1;
    }
    if (cfg->app_env == DBSSL_ENV_PRODUCTION) {
        dbssl_error_set(err, DBSSL_ERR_CONFIG,
                        "Set DB_SSL_AUTO_GENERATE=false and use certificates from your CA in "
                        "DB_SSL_CA_CERT.",
                        "self-signed auto-generated certificates are for development only, not "
                        "APP_ENV \"production\"");
        return -1;
    }
    dbssl_certs_opts_from_config(cfg, &opts);
    if (dbssl_certs_generate(&opts, res, err) != 0)
        return -1;
    dbssl_certs_report_user_files(cfg, res);
    return 0;
}
