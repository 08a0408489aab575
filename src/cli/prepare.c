/*
 * prepare.c - load, generate, validate: the common start of `status`,
 * `serve`, `exec` and `env` (see prepare.h).
 */
#include "prepare.h"

#include <stdio.h>
#include <sys/stat.h>

#include "certs.h"
#include "cli.h"
#include "config.h"

int cli_ensure_certs(const struct dbssl_config *cfg, FILE *out)
{
    struct dbssl_certs_result res;
    struct dbssl_error e;

    dbssl_error_clear(&e);
    if (dbssl_certs_ensure(cfg, &res, &e) != 0) {
        if (e.code == DBSSL_ERR_CONFIG)
            return 0;
        cli_print_error(&e);
        return -1;
    }
    for (int i = 0; i < DBSSL_CERTS_NFILES; i++)
        if (res.written & (1u << i))
            fprintf(out, "%s %s/%s (%s)\n", (res.replaced & (1u << i)) ? "renewed" : "generated",
                    res.dir, dbssl_certs_file_name((enum dbssl_certs_file)i), res.reason[i]);
    return 0;
}

/*
 * Validation accepts generated files that do not exist yet, since preparing
 * writes them first; under no_generate nothing will, and a program handed
 * their paths would fail on its first connection instead.
 */
bool cli_generated_files_exist(const struct dbssl_config *cfg, const char *hint)
{
    struct dbssl_file_ref refs[3];
    size_t n = 0;
    struct stat st;

    if (dbssl_config_ca_file(cfg, &refs[n]))
        n++;
    if (dbssl_config_client_files(cfg, &refs[n], &refs[n + 1]))
        n += 2;
    for (size_t i = 0; i < n; i++) {
        if (refs[i].generated && stat(refs[i].path, &st) != 0) {
            struct dbssl_error e;
            dbssl_error_clear(&e);
            dbssl_error_setx(&e, DBSSL_ERR_CONFIG, NULL, hint,
                             "%s: the generated file \"%s\" does not exist", refs[i].setting,
                             refs[i].path);
            cli_print_error(&e);
            return false;
        }
    }
    return true;
}

struct dbssl_config *cli_prepare_config(const char *env_file, bool json, int *status)
{
    struct cli_prepare how = {env_file, json, false, NULL};

    return cli_prepare(&how, status);
}

struct dbssl_config *cli_prepare(const struct cli_prepare *how, int *status)
{
    struct dbssl_config *cfg = cli_load_config(how->env_file);
    struct dbssl_findings *f = NULL;
    struct dbssl_error e;
    FILE *generated = how->out ? how->out : how->json ? stderr : stdout;

    *status = EXIT_CONFIG;
    if (cfg == NULL)
        goto out;
    /* before validation, so that the generated files are the ones checked */
    if (!how->no_generate && cli_ensure_certs(cfg, generated) != 0) {
        *status = EXIT_RUNTIME;
        goto fail;
    }
    dbssl_error_clear(&e);
    f = dbssl_config_validate(cfg, &e);
    if (f == NULL) {
        cli_print_error(&e);
        *status = EXIT_RUNTIME;
        goto fail;
    }
    if (dbssl_findings_errors(f) > 0) {
        /* as `dbssl validate` prints them, but an expired certificate is a
         * runtime failure here: the settings were right, time ran out */
        cli_print_findings(how->out ? how->out : stdout, f, how->json);
        *status = cli_findings_run_status(f);
        goto fail;
    }
    if (how->no_generate &&
        !cli_generated_files_exist(
            cfg, "Run without --no-generate, or run \"dbssl certs generate\" first."))
        goto fail;
    *status = EXIT_OK;
    goto out;
fail:
    dbssl_config_free(cfg);
    cfg = NULL;
out:
    dbssl_findings_free(f);
    return cfg;
}
