/*
 * prepare.c - load, generate, validate: the common start of `status` and
 * `serve` (see prepare.h).
 */
#include "prepare.h"

#include "cli.h"

struct dbssl_config *cli_prepare_config(const char *env_file, bool json, int *status)
{
    struct dbssl_config *cfg = cli_load_config(env_file);
    struct dbssl_findings *f = NULL;
    struct dbssl_error e;

    *status = EXIT_CONFIG;
    if (cfg == NULL)
        goto out;
    /* TODO(merge): dbssl_certs_ensure(cfg, res, err) when DB_SSL_AUTO_GENERATE is true, before
     * validation so that the generated files are the ones checked */
    dbssl_error_clear(&e);
    f = dbssl_config_validate(cfg, &e);
    if (f == NULL) {
        cli_print_error(&e);
        *status = EXIT_RUNTIME;
        goto fail;
    }
    if (dbssl_findings_errors(f) > 0) {
        /* as `dbssl validate` prints them: same words, same exit status */
        *status = cli_print_findings(f, json);
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
