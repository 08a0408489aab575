/*
 * prepare.h - the start-up sequence `status`, `serve`, `exec` and `env`
 * share: load the settings, provide auto-generated certificates, validate,
 * and refuse to go on when the settings are invalid (the guide: "If
 * validation fails, the application will not start").
 */
#ifndef DBSSL_CLI_PREPARE_H
#define DBSSL_CLI_PREPARE_H

#include <stdbool.h>
#include <stdio.h>

#include "dbssl/config.h"

/* How to prepare, and where to say what happened. */
struct cli_prepare {
    const char *env_file; /* NULL: ./.env when present */
    bool json;            /* findings as JSON */
    bool no_generate;     /* leave the certificate set as it is */
    FILE *out;            /* findings and generated files; NULL: as cli_prepare_config() */
};

/*
 * Returns the loaded, valid settings, or NULL after printing why (the load
 * error, or every finding as human lines or JSON); *status is then the exit
 * status (2 invalid settings, 1 an expired certificate or a set that could
 * not be generated).
 */
struct dbssl_config *cli_prepare(const struct cli_prepare *how, int *status);

/* cli_prepare() with the findings on stdout, the generated files on stdout (stderr under json). */
struct dbssl_config *cli_prepare_config(const char *env_file, bool json, int *status);

/*
 * False after printing an error (with hint) when a file of the
 * auto-generated set that the settings use does not exist yet: validation
 * lets those pass, since preparing writes them first.
 */
bool cli_generated_files_exist(const struct dbssl_config *cfg, const char *hint);

/*
 * Generates or renews the development certificate set when
 * DB_SSL_AUTO_GENERATE is true, printing each file written to out.  A bad
 * auto-generation setting is left to validation, which reports it with the
 * others.  Returns -1 after printing the error when the set could not be
 * written.
 */
int cli_ensure_certs(const struct dbssl_config *cfg, FILE *out) DBSSL_MUSTCHECK;

#endif
