/*
 * prepare.h - the start-up sequence `status` and `serve` share: load the
 * settings, provide auto-generated certificates, validate, and refuse to go
 * on when the settings are invalid (the guide: "If validation fails, the
 * application will not start").
 */
#ifndef DBSSL_CLI_PREPARE_H
#define DBSSL_CLI_PREPARE_H

#include <stdbool.h>

#include "dbssl/config.h"

/*
 * Returns the loaded, valid settings, or NULL after printing why (the load
 * error, or every finding as human lines or JSON); *status is then the exit
 * status.
 */
struct dbssl_config *cli_prepare_config(const char *env_file, bool json, int *status);

/*
 * Generates or renews the development certificate set when
 * DB_SSL_AUTO_GENERATE is true, printing each file written (to stderr under
 * --json, so stdout stays one JSON document).  A bad auto-generation setting
 * is left to validation, which reports it with the others.  Returns -1 after
 * printing the error when the set could not be written.
 */
int cli_ensure_certs(const struct dbssl_config *cfg, bool json);

#endif
