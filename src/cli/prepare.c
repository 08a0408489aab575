/*
 * prepare.c - load, generate, validate: the common start of `status` and
 * `serve` (see prepare.h).
 */
#include "prepare.h"

#include <stdio.h>

#include "certs.h"
#include "cli.h"

int cli_ensure_certs(const struct dbssl_config *cfg, bool json)
{
    struct dbssl_certs_result res;
    struct dbssl_error e;
    FILE *out = json ? stderr : stdout;

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

struct dbssl_config *cli_prepare_config(const char *env_file, bool json, int *status)
{
    struct dbssl_config *cfg = cli_load_config(env_file);
    struct dbssl_findings *f = NULL;
    struct dbssl_error e;

    *status = EXIT_CONFIG;
    if (cfg == NULL)
        goto out;
    /* before validation, so that the generated files are the ones checked */
    if (cli_ensure_certs(cfg, json) != 0) {
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
        cli_print_findings(f, json);
        *status = cli_findings_run_status(f);
        goto fail;
    }
    *status = EXIT_OK;
    goto out;
fail:
    dbssl_config_free(cfg);
    cfg = NULL;
out:
    dbssl_findings_free(f);
    return cfg;
}
