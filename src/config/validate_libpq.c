/*
 * validate_libpq.c - pass 2 of validation for the settings that speak
 * libpq's newer TLS parameters: DB_SSL_CA_CERT=system (sslrootcert=system,
 * libpq 16), DB_SSL_CERT_MODE (sslcertmode, 16), DB_REQUIRE_AUTH
 * (require_auth, 16) and DB_SSL_NEGOTIATION (sslnegotiation, 17).
 *
 * Whether the linked libpq has a parameter is asked of it at run time
 * (libpqcaps.h): a setting it cannot honour is an error naming the libpq it
 * needs and the one linked, never a value silently dropped.  A value that
 * asks for what every libpq does (postgres negotiation, sslcertmode allow)
 * needs nothing.  The rules libpq applies itself at connect time are
 * checked here too, so that they stop dbssl before it starts.
 */
#include "validate.h"

#include <stdio.h>
#include <string.h>

#include "libpqcaps.h"

struct libpq_need {
    int option;          /* the setting */
    const char *keyword; /* the parameter a libpq that honours it knows */
    int major;           /* the first libpq with it */
};

/* sslrootcert exists in every libpq: its "system" value came in 16 with sslcertmode */
static const struct libpq_need need_system = {OPT_DB_SSL_CA_CERT, "sslcertmode", 16};
static const struct libpq_need need_cert_mode = {OPT_DB_SSL_CERT_MODE, "sslcertmode", 16};
static const struct libpq_need need_require_auth = {OPT_DB_REQUIRE_AUTH, "require_auth", 16};
static const struct libpq_need need_negotiation = {OPT_DB_SSL_NEGOTIATION, "sslnegotiation", 17};

/* False (and an error finding) when the linked libpq lacks what n needs for value. */
static bool have(const struct libpq_need *n, const char *value, struct dbssl_findings *f)
{
    const char *name = dbssl_options[n->option].name;
    char linked[32], detail[256], hint[512];

    if (dbssl_libpq_has(n->keyword))
        return true;
    dbssl_pg_version_text(dbssl_libpq_version(), linked, sizeof(linked));
    snprintf(detail, sizeof(detail), "libpq %s has no connection parameter \"%s\".", linked,
             n->keyword);
    snprintf(hint, sizeof(hint),
             "Run dbssl with libpq %d or later (the libpq5 package from apt.postgresql.org), or "
             "unset %s.",
             n->major, name);
    dbssl_findings_addx(f, DBSSL_SEVERITY_ERROR, 0, name, detail, hint,
                        "%s \"%s\" needs libpq %d or later, but the linked libpq is %s", name,
                        value, n->major, linked);
    return false;
}

static bool parsed(const struct dbssl_config *cfg, int option)
{
    return cfg->settings[option].error == NULL;
}

void validate_libpq(const struct dbssl_config *cfg, struct dbssl_findings *f, bool have_client)
{
    bool mode_ok = parsed(cfg, OPT_DB_SSL_MODE);
    const char *mode = dbssl_sslmode_name(cfg->ssl_mode);

    if (dbssl_config_ca_system(cfg) && have(&need_system, DBSSL_CA_SYSTEM, f) && mode_ok &&
        cfg->ssl_mode != DBSSL_SSLMODE_VERIFY_FULL)
        /* libpq: "weak sslmode ... may not be used with sslrootcert=system" */
        dbssl_findings_add(f, DBSSL_SEVERITY_ERROR, "DB_SSL_MODE",
                           "Use DB_SSL_MODE=verify-full: any server's certificate from a public "
                           "CA would pass a weaker check.",
                           "DB_SSL_CA_CERT \"system\" (the system's CA store) needs DB_SSL_MODE "
                           "\"verify-full\", not \"%s\"",
                           mode);
    if (parsed(cfg, OPT_DB_SSL_CERT_MODE) && cfg->ssl_cert_mode != DBSSL_CERT_MODE_ALLOW &&
        have(&need_cert_mode, dbssl_option_choice(OPT_DB_SSL_CERT_MODE, (int)cfg->ssl_cert_mode),
             f)) {
        if (cfg->ssl_cert_mode == DBSSL_CERT_MODE_REQUIRE && !have_client)
            dbssl_findings_add(f, DBSSL_SEVERITY_ERROR, "DB_SSL_CERT_MODE",
                               "Set DB_SSL_CLIENT_CERT and DB_SSL_CLIENT_KEY (or "
                               "DB_SSL_AUTO_GENERATE_CLIENT=true), or set DB_SSL_CERT_MODE=allow.",
                               "DB_SSL_CERT_MODE \"require\" but no client certificate is "
                               "configured");
        if (cfg->ssl_cert_mode == DBSSL_CERT_MODE_DISABLE && have_client)
            dbssl_findings_add(f, DBSSL_SEVERITY_WARNING, "DB_SSL_CERT_MODE",
                               "Set DB_SSL_CERT_MODE=allow or require, or remove the client "
                               "certificate.",
                               "DB_SSL_CERT_MODE \"disable\": the configured client certificate "
                               "is never sent");
    }
    if (parsed(cfg, OPT_DB_REQUIRE_AUTH) && cfg->require_auth != NULL)
        (void)have(&need_require_auth, cfg->require_auth, f);
    if (parsed(cfg, OPT_DB_SSL_NEGOTIATION) && cfg->ssl_negotiation == DBSSL_NEGOTIATION_DIRECT &&
        have(&need_negotiation, "direct", f) && mode_ok && cfg->ssl_mode < DBSSL_SSLMODE_REQUIRE)
        /* libpq 17: "weak sslmode ... may not be used with sslnegotiation=direct" */
        dbssl_findings_add(f, DBSSL_SEVERITY_ERROR, "DB_SSL_NEGOTIATION",
                           "Use DB_SSL_MODE=verify-full (or require, verify-ca) with direct "
                           "negotiation, or set DB_SSL_NEGOTIATION=postgres.",
                           "DB_SSL_NEGOTIATION \"direct\" needs a DB_SSL_MODE that requires TLS, "
                           "not \"%s\"",
                           mode);
}
