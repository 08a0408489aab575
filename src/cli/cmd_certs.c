/*
 * cmd_certs.c - `dbssl certs generate` (the guide's "Automatic Certificate
 * Generation" on demand) and `dbssl certs inspect` (which replaces
 * "openssl x509 -in ... -noout -dates" with everything that matters for
 * PostgreSQL: names, dates, chain, key match and key permissions).
 */
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "certinfo.h"
#include "certs.h"
#include "cli.h"
#include "clock.h"
#include "expiry.h"
#include "jsonutil.h"
#include "util.h"

/* ---- generate ------------------------------------------------------------------ */

static void print_result(const struct dbssl_certs_result *res)
{
    if (res->recovered)
        printf("completed an interrupted update of %s\n", res->dir);
    for (int f = 0; f < DBSSL_CERTS_NFILES; f++) {
        if (!(res->written & (1u << f)))
            continue;
        printf("%s %s/%s (%s)\n", (res->replaced & (1u << f)) ? "renewed" : "wrote", res->dir,
               dbssl_certs_file_name((enum dbssl_certs_file)f), res->reason[f]);
    }
    if (res->owner_changed)
        printf("changed the owner of %s/server.crt and server.key\n", res->dir);
    if (res->up_to_date)
        printf("%s: up to date\n", res->dir);
    for (size_t i = 0; i < res->n_notes; i++)
        printf("warning: %s\n", res->notes[i]);
}

static int run_generate(int argc, char **argv)
{
    const char *env_file = NULL, *dir = NULL, *hosts = NULL, *owner = NULL, *days_s = NULL;
    const char *key_s = NULL, *ca_dir = NULL;
    const struct dbssl_option *days = &dbssl_options[OPT_DB_SSL_AUTO_CERT_VALIDITY_DAYS];
    bool client = false, force = false;
    struct dbssl_config *cfg = NULL;
    struct dbssl_certs_opts opts;
    struct dbssl_certs_result res;
    struct dbssl_error e;
    int c, key = 0, status = EXIT_CONFIG;

    const struct cli_option options[] = {
        {"env-file", 'e', CLI_STRING, &env_file},
        {"dir", 'd', CLI_STRING, &dir},
        {"days", 'n', CLI_STRING, &days_s},
        {"client", 'c', CLI_FLAG, &client},
        {"hosts", 'H', CLI_STRING, &hosts},
        {"key-type", 'k', CLI_STRING, &key_s},
        {"force", 'f', CLI_FLAG, &force},
        {"owner", 'o', CLI_STRING, &owner},
        {"ca-dir", 'C', CLI_STRING, &ca_dir},
        {NULL, 0, CLI_FLAG, NULL},
    };

    if ((c = cli_parse(argc, argv, &cmd_certs, options, 0)) >= 0)
        return c;

    cfg = cli_load_config(env_file);
    if (cfg == NULL)
        goto out;
    dbssl_certs_opts_from_config(cfg, &opts);
    if (dir) {
        opts.dir = dir;
        opts.dir_named_by = "--dir";
    }
    /* the values DB_SSL_AUTO_CERT_VALIDITY_DAYS and DB_SSL_AUTO_KEY_TYPE take (options.c) */
    if (days_s && !parse_long(days_s, days->min, days->max, &opts.days)) {
        status =
            cli_usage_error("certs", "invalid --days \"%s\": use a whole number from %ld to %ld",
                            days_s, days->min, days->max);
        goto out;
    }
    if (key_s && (key = dbssl_option_choice_index(OPT_DB_SSL_AUTO_KEY_TYPE, key_s)) < 0) {
        char *list = dbssl_option_choices_text(OPT_DB_SSL_AUTO_KEY_TYPE);
        status = cli_usage_error("certs", "invalid --key-type \"%s\": use one of %s", key_s,
                                 list ? list : "the choices of DB_SSL_AUTO_KEY_TYPE");
        free(list);
        goto out;
    }
    if (key_s)
        opts.key_type = (enum dbssl_key_type)key;
    if (hosts)
        opts.extra_hosts = hosts;
    if (client)
        opts.with_client = true;
    opts.force = force;
    opts.owner = owner;
    if (ca_dir != NULL) {
        /* one host's own set: its names are --hosts alone, signed by the shared CA */
        if (hosts == NULL || dir == NULL) {
            status = cli_usage_error("certs", "--ca-dir needs --dir (this host's set) and --hosts "
                                              "(the names its certificate carries)");
            goto out;
        }
        opts.ca_dir = ca_dir;
        opts.with_ca = true;
        opts.with_client = client; /* the application's pair lives in the shared set */
    }
    dbssl_error_clear(&e);
    if (dbssl_certs_generate(&opts, &res, &e) != 0) {
        cli_print_error(&e);
        status = dbssl_error_exit_status(e.code);
        goto out;
    }
    dbssl_certs_report_user_files(cfg, &res);
    print_result(&res);
    status = EXIT_OK;
out:
    dbssl_config_free(cfg);
    return status;
}

/* ---- inspect -------------------------------------------------------------------- */

struct target {
    char cert[PATH_BUF];
    char key[PATH_BUF]; /* "" when none */
    const char *label;  /* the setting, or "file" */
};

struct inspect_ctx {
    char ca[PATH_BUF]; /* the configured CA, "" when none */
    bool json;
    json_t *list;
    bool failed;
};

static void add_target(struct target *t, size_t *n, size_t max, const char *cert, const char *key,
                       const char *label)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp(t[i].cert, cert) == 0)
            return;
    if (*n >= max || cert[0] == '\0')
        return;
    snprintf(t[*n].cert, sizeof(t[*n].cert), "%s", cert);
    snprintf(t[*n].key, sizeof(t[*n].key), "%s", key ? key : "");
    t[*n].label = label;
    (*n)++;
}

/* FILE.crt's key by convention: FILE.key next to it, when it exists. */
static void guess_key(const char *cert, char *key, size_t len)
{
    size_t n = strlen(cert);
    struct stat st;

    key[0] = '\0';
    if (n > 4 && strcmp(cert + n - 4, ".crt") == 0 && n < len) {
        snprintf(key, len, "%.*s.key", (int)(n - 4), cert);
        if (stat(key, &st) != 0)
            key[0] = '\0';
    }
}

static void print_field(const char *name, const char *value)
{
    printf("  %-15s %s\n", name, value);
}

static void inspect_one(struct inspect_ctx *ctx, const struct target *t)
{
    struct dbssl_certlist list;
    struct dbssl_error e;
    long long now = dbssl_now();
    bool chain_ok = false, chain_known = false, match = false, match_known = false;
    bool perm_ok = true;
    char reason[600] = "", nb[32], na[32], msg[1024], pmsg[1024], hint[1024], buf[64];

    dbssl_error_clear(&e);
    if (dbssl_certlist_load(t->cert, "certificate file", &list, &e) != 0) {
        ctx->failed = true;
        if (ctx->json) {
            json_array_append_new(ctx->list, json_pack("{s:o, s:s, s:o}", "file",
                                                       dbssl_json_str(t->cert), "setting", t->label,
                                                       "error", dbssl_json_str(e.message)));
        } else {
            cli_print_error(&e);
        }
        return;
    }
    if (ctx->ca[0] != '\0' && strcmp(ctx->ca, t->cert) != 0) {
        struct dbssl_error ce;
        dbssl_error_clear(&ce);
        chain_known =
            dbssl_cert_verify_chain(t->cert, ctx->ca, &chain_ok, reason, sizeof(reason), &ce) == 0;
        if (!chain_known) {
            snprintf(reason, sizeof(reason), "%s", ce.message);
            ctx->failed = true; /* the CA could not be read (missing, not a file, ...) */
        }
    }
    msg[0] = '\0';
    if (t->key[0] != '\0') {
        struct dbssl_error ke;
        dbssl_error_clear(&ke);
        match_known = dbssl_key_matches_cert(t->cert, t->key, &match, &ke) == 0;
        if (!match_known)
            snprintf(msg, sizeof(msg), "%s", ke.message);
        if (!match_known || !match)
            ctx->failed = true;
        perm_ok = dbssl_key_permissions_ok(t->key, pmsg, sizeof(pmsg), hint, sizeof(hint));
    }
    for (size_t i = 0; i < list.n; i++) {
        const struct dbssl_certinfo *ci = &list.certs[i];
        long long days = dbssl_expiry_days_left(ci->not_after, now);
        /* inspect has no warning window: valid, expired or not yet valid */
        bool expired =
            dbssl_expiry_state(ci->not_before, ci->not_after, now, 0) == DBSSL_EXPIRY_EXPIRED;
        bool first = i == 0;

        if (expired)
            ctx->failed = true;
        format_rfc3339(ci->not_before, nb, sizeof(nb));
        format_rfc3339(ci->not_after, na, sizeof(na));
        if (ctx->json) {
            json_t *o = json_pack(
                "{s:o, s:s, s:i, s:o, s:o, s:o, s:s, s:s, s:i, s:s, s:s, s:s, s:I, s:b, s:b, s:b}",
                "file", dbssl_json_str(t->cert), "setting", t->label, "index", (int)i, "subject",
                dbssl_json_str(ci->subject), "issuer", dbssl_json_str(ci->issuer), "sans",
                dbssl_json_str(ci->sans), "key_type", ci->key_type, "serial", ci->serial,
                "key_bits", ci->key_bits, "not_before", nb, "not_after", na, "fingerprint_sha256",
                ci->fingerprint, "days_remaining", (json_int_t)days, "expired", expired, "is_ca",
                ci->is_ca, "self_signed", ci->self_signed);
            json_object_set_new(o, "chains_to_ca",
                                first && chain_known ? json_boolean(chain_ok) : json_null());
            json_object_set_new(o, "ca_file", ctx->ca[0] ? dbssl_json_str(ctx->ca) : json_null());
            json_object_set_new(o, "key_file",
                                first && t->key[0] ? dbssl_json_str(t->key) : json_null());
            json_object_set_new(o, "key_matches",
                                first && match_known ? json_boolean(match) : json_null());
            json_object_set_new(o, "key_permissions_ok",
                                first && t->key[0] ? json_boolean(perm_ok) : json_null());
            json_array_append_new(ctx->list, o);
            continue;
        }
        printf("%s (%s)\n", t->cert, t->label);
        if (list.n > 1)
            printf("  certificate %zu of %zu\n", i + 1, list.n);
        print_field("subject:", ci->subject);
        print_field("issuer:", ci->issuer);
        print_field("SANs:", ci->sans[0] ? ci->sans : "(none)");
        snprintf(buf, sizeof(buf), "%s %d bits", ci->key_type, ci->key_bits);
        print_field("key:", buf);
        print_field("serial:", ci->serial);
        print_field("not before:", nb);
        print_field("not after:", na);
        snprintf(buf, sizeof(buf), "%lld%s", days, expired ? " (EXPIRED)" : "");
        print_field("days left:", buf);
        print_field("SHA-256:", ci->fingerprint);
        print_field("CA:", ci->is_ca ? "yes" : (ci->self_signed ? "no (self-signed)" : "no"));
        if (first && chain_known) {
            printf("  %-15s %s (%s: %s)\n", "chains to CA:", chain_ok ? "yes" : "NO", ctx->ca,
                   reason);
        } else if (first && reason[0] != '\0') {
            print_field("chains to CA:", reason);
        }
        if (first && t->key[0]) {
            print_field("key file:", t->key);
            print_field("key matches:", match_known ? (match ? "yes" : "NO") : msg);
            print_field("key perms:", perm_ok ? "ok" : pmsg);
        }
    }
    dbssl_certlist_free(&list);
}

static int run_inspect(int argc, char **argv)
{
    const char *env_file = NULL;
    struct inspect_ctx ctx;
    struct dbssl_config *cfg = NULL;
    struct dbssl_file_ref ca, cc, ck;
    struct target *t = NULL;
    size_t n = 0, max;
    int c, status = EXIT_CONFIG;

    const struct cli_option opts[] = {
        {"env-file", 'e', CLI_STRING, &env_file},
        {"json", 'j', CLI_FLAG, &ctx.json},
        {NULL, 0, CLI_FLAG, NULL},
    };

    memset(&ctx, 0, sizeof(ctx));
    if ((c = cli_parse(argc, argv, &cmd_certs, opts, -1)) >= 0)
        return c;
    cfg = cli_load_config(env_file);
    if (cfg == NULL)
        goto out;
    max = (size_t)(argc - optind) + 4;
    t = calloc(max, sizeof(*t));
    if (t == NULL) {
        status = EXIT_RUNTIME;
        goto out;
    }
    if (dbssl_config_ca_file(cfg, &ca))
        snprintf(ctx.ca, sizeof(ctx.ca), "%s", ca.path);
    if (optind < argc) {
        for (int i = optind; i < argc; i++) {
            char key[PATH_BUF];
            guess_key(argv[i], key, sizeof(key));
            add_target(t, &n, max, argv[i], key, "file");
        }
    } else {
        if (ctx.ca[0]) {
            char key[PATH_BUF];
            snprintf(key, sizeof(key), "%s/ca.key", cfg->auto_cert_dir ? cfg->auto_cert_dir : "");
            add_target(t, &n, max, ca.path, ca.generated && access(key, F_OK) == 0 ? key : NULL,
                       ca.setting);
        }
        if (cfg->auto_generate && cfg->auto_cert_dir) {
            char crt[PATH_BUF], key[PATH_BUF];
            snprintf(crt, sizeof(crt), "%s/server.crt", cfg->auto_cert_dir);
            snprintf(key, sizeof(key), "%s/server.key", cfg->auto_cert_dir);
            add_target(t, &n, max, crt, key, "DB_SSL_AUTO_CERT_DIR");
        }
        if (dbssl_config_client_files(cfg, &cc, &ck))
            add_target(t, &n, max, cc.path, ck.path, cc.setting);
        if (n == 0) {
            fprintf(stderr, "dbssl certs: no certificate is configured\n"
                            "  hint: Set DB_SSL_CA_CERT or DB_SSL_AUTO_GENERATE=true, or name "
                            "certificate files on the command line.\n");
            status = EXIT_CONFIG;
            goto out;
        }
    }
    ctx.list = json_array();
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && !ctx.json)
            printf("\n");
        inspect_one(&ctx, &t[i]);
    }
    if (ctx.json) {
        json_t *root = json_pack("{s:b, s:o}", "ok", !ctx.failed, "certificates", ctx.list);
        char *s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        ctx.list = NULL;
        if (s)
            printf("%s\n", s);
        free(s);
        json_decref(root);
    }
    status = ctx.failed ? EXIT_RUNTIME : EXIT_OK;
out:
    json_decref(ctx.list);
    free(t);
    dbssl_config_free(cfg);
    return status;
}

static int run(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error("certs", "missing subcommand (generate or inspect)");
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        cli_print_usage(stdout, &cmd_certs);
        return EXIT_OK;
    }
    if (strcmp(argv[1], "generate") == 0)
        return run_generate(argc - 1, argv + 1);
    if (strcmp(argv[1], "inspect") == 0)
        return run_inspect(argc - 1, argv + 1);
    return cli_usage_error("certs", "unknown subcommand \"%s\" (use generate or inspect)", argv[1]);
}

const struct cli_command cmd_certs = {
    "certs",
    run,
    "generate, renew and inspect certificates",
    "Usage: dbssl certs generate [--env-file F] [--dir D] [--days N] [--client]\n"
    "                            [--hosts a,b] [--key-type T] [--force] [--owner USER]\n"
    "                            [--ca-dir SHARED]\n"
    "       dbssl certs inspect [FILE...] [--env-file F] [--json]\n"
    "\n"
    "generate creates the development set in DB_SSL_AUTO_CERT_DIR (or D): ca.crt,\n"
    "ca.key, server.crt, server.key and, with --client or\n"
    "DB_SSL_AUTO_GENERATE_CLIENT=true, client.crt and client.key (CN = the\n"
    "DATABASE_URL user).  A valid set is left untouched; missing files are\n"
    "re-issued from the existing CA; expiring ones are renewed.  Prints the files\n"
    "written, or \"up to date\".\n"
    "\n"
    "  --dir D        directory of the set (default DB_SSL_AUTO_CERT_DIR)\n"
    "  --days N       validity of new certificates (default DB_SSL_AUTO_CERT_VALIDITY_DAYS)\n"
    "  --client       also issue the client pair (mutual TLS)\n"
    "  --hosts a,b    extra server names (default DB_SSL_AUTO_CERT_HOSTS)\n"
    "  --key-type T   ec-p256, rsa-2048 or rsa-3072 (default DB_SSL_AUTO_KEY_TYPE)\n"
    "  --force        replace the whole set\n"
    "  --owner USER   (root) give server.crt/server.key to USER, as PostgreSQL requires\n"
    "  --ca-dir SHARED  one host of several (a primary and its standbys): D gets a\n"
    "                 server pair naming --hosts only, signed by SHARED's CA, and a\n"
    "                 copy of SHARED/ca.crt (no ca.key); re-issued when SHARED's CA\n"
    "                 changes.  \"dbssl pg-config --cert-dir D\" prints its lines.\n"
    "\n"
    "inspect shows, for each certificate (by default the configured and generated\n"
    "ones): subject, issuer, SANs, key, serial, dates, days left, SHA-256\n"
    "fingerprint, whether it is a CA, whether it chains to the configured CA and\n"
    "whether its key file (FILE.key for FILE.crt) matches with safe permissions.\n"
    "\n"
    "Exit status: 0 ok; 1 a certificate is expired, a key does not match or a\n"
    "file cannot be read; 2 usage or configuration error.\n",
};
