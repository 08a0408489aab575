/*
 * dbssl/config.h - loading and validating dbssl's settings.
 *
 * Settings come from the process environment and a dotenv file; the
 * environment wins.  Every setting has a default (see the option table in
 * src/config/options.c, also printed by `dbssl config` and the README).
 *
 * Loading fails only when the dotenv file itself cannot be used (missing when
 * named explicitly, unreadable, a syntax error).  A bad *value* does not fail
 * loading: it becomes a finding of dbssl_config_validate(), so that a user
 * sees every problem at once instead of one per run.
 */
#ifndef DBSSL_CONFIG_H
#define DBSSL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "dbssl/error.h"

#ifdef __cplusplus
extern "C" {
#endif

struct dbssl_config;

enum dbssl_sslmode {
    DBSSL_SSLMODE_DISABLE = 0,
    DBSSL_SSLMODE_ALLOW,
    DBSSL_SSLMODE_PREFER,
    DBSSL_SSLMODE_REQUIRE,
    DBSSL_SSLMODE_VERIFY_CA,
    DBSSL_SSLMODE_VERIFY_FULL,
};

enum dbssl_source {
    DBSSL_SOURCE_DEFAULT = 0,
    DBSSL_SOURCE_DOTENV,
    DBSSL_SOURCE_ENV,
    DBSSL_SOURCE_URL, /* an ssl keyword inside DATABASE_URL */
};

/*
 * Loads settings from the process environment and a dotenv file.
 * env_file NULL means "./.env if it exists"; a non-NULL env_file must exist.
 * Returns a new config the caller frees with dbssl_config_free(), or NULL.
 */
DBSSL_API struct dbssl_config *dbssl_config_load(const char *env_file,
                                                 struct dbssl_error *err) DBSSL_MUSTCHECK;

/*
 * Like dbssl_config_load() but reads envp (a NULL-terminated "KEY=VALUE"
 * array, NULL for none) instead of the process environment.  For tests and
 * embedders that keep their settings elsewhere.
 */
DBSSL_API struct dbssl_config *dbssl_config_load_from(const char *env_file, bool env_file_required,
                                                      const char *const *envp,
                                                      struct dbssl_error *err) DBSSL_MUSTCHECK;

/* Frees a config; NULL is fine. */
DBSSL_API void dbssl_config_free(struct dbssl_config *cfg);

/* The dotenv file that was read, or NULL when none was. Owned by cfg. */
DBSSL_API const char *dbssl_config_env_file(const struct dbssl_config *cfg);

/*
 * Introspection over the option table, for `dbssl config` and docs.
 * Index i runs from 0 to dbssl_config_option_count() - 1.
 */
DBSSL_API size_t dbssl_config_option_count(void);
DBSSL_API const char *dbssl_config_option_name(size_t i);
DBSSL_API const char *dbssl_config_option_default(size_t i);
DBSSL_API const char *dbssl_config_option_type(size_t i);
DBSSL_API const char *dbssl_config_option_description(size_t i);
DBSSL_API bool dbssl_config_option_sensitive(size_t i);

/*
 * The effective value of option i as safe to display (secrets such as the
 * DATABASE_URL password replaced by "***"), and where it came from.  The
 * string is owned by cfg.  Empty string when unset.
 */
DBSSL_API const char *dbssl_config_display_value(const struct dbssl_config *cfg, size_t i,
                                                 enum dbssl_source *source);

DBSSL_API const char *dbssl_source_name(enum dbssl_source source);
DBSSL_API const char *dbssl_sslmode_name(enum dbssl_sslmode mode);

/* ---- validation ---------------------------------------------------------- */

enum dbssl_severity {
    DBSSL_SEVERITY_ERROR = 0,
    DBSSL_SEVERITY_WARNING,
};

/* Opaque: read a finding through the accessors below, by index. */
struct dbssl_findings;

/*
 * Validates cfg in two passes (each value alone, then cross-field rules) and
 * returns every finding.  Returns NULL only on out-of-memory.  The caller
 * frees the result with dbssl_findings_free().
 */
DBSSL_API struct dbssl_findings *dbssl_config_validate(const struct dbssl_config *cfg,
                                                       struct dbssl_error *err) DBSSL_MUSTCHECK;

DBSSL_API size_t dbssl_findings_count(const struct dbssl_findings *f);
DBSSL_API size_t dbssl_findings_errors(const struct dbssl_findings *f);
DBSSL_API size_t dbssl_findings_warnings(const struct dbssl_findings *f);

/*
 * Finding i (0 to dbssl_findings_count() - 1), in PostgreSQL's parts: the
 * setting it is about (e.g. "DB_SSL_CA_CERT"), a short primary message
 * (no secrets), an optional detail and a hint (full sentences).  The strings
 * are never NULL ("" when empty, and for i out of range, where the severity
 * is DBSSL_SEVERITY_ERROR); they are owned by f until dbssl_findings_free().
 */
DBSSL_API enum dbssl_severity dbssl_findings_severity(const struct dbssl_findings *f, size_t i);
DBSSL_API const char *dbssl_findings_setting(const struct dbssl_findings *f, size_t i);
DBSSL_API const char *dbssl_findings_message(const struct dbssl_findings *f, size_t i);
DBSSL_API const char *dbssl_findings_detail(const struct dbssl_findings *f, size_t i);
DBSSL_API const char *dbssl_findings_hint(const struct dbssl_findings *f, size_t i);

DBSSL_API void dbssl_findings_free(struct dbssl_findings *f);

DBSSL_API const char *dbssl_severity_name(enum dbssl_severity severity);

#ifdef __cplusplus
}
#endif
#endif
