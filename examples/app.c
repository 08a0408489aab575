/*
 * app.c - what the guide's application does, with dbssl: refuse to start on
 * invalid settings, connect with the configured TLS, print the TLS state.
 * Build: cc app.c $(pkg-config --cflags --libs dbssl) -o app
 * (add -Wl,-rpath,$(pkg-config --variable=libdir dbssl) for a prefix the
 * dynamic loader does not search, such as make install PREFIX=/tmp/x)
 */
#include <dbssl/dbssl.h>
#include <stdio.h>

/* PostgreSQL's three parts: the primary message, then the detail and hint when there are. */
static void report(const char *what, const char *message, const char *detail, const char *hint)
{
    fprintf(stderr, "app: %s%s%s\n", what, what[0] != '\0' ? ": " : "", message);
    if (detail[0] != '\0')
        fprintf(stderr, "  detail: %s\n", detail);
    if (hint[0] != '\0')
        fprintf(stderr, "  hint: %s\n", hint);
}

int main(void)
{
    struct dbssl_error *err = dbssl_error_new();
    struct dbssl_tls_state *tls = dbssl_tls_state_new();
    struct dbssl_config *cfg = NULL;
    struct dbssl_findings *f = NULL;
    PGconn *conn = NULL;
    int status = 2; /* invalid settings, as `dbssl validate` says */

    if (err == NULL || tls == NULL || (cfg = dbssl_config_load(NULL, err)) == NULL) {
        report("", err ? dbssl_error_message(err) : "out of memory", "", "");
        goto out;
    }
    f = dbssl_config_validate(cfg, err);
    for (size_t i = 0; i < dbssl_findings_count(f); i++)
        if (dbssl_findings_severity(f, i) == DBSSL_SEVERITY_ERROR)
            report(dbssl_findings_setting(f, i), dbssl_findings_message(f, i),
                   dbssl_findings_detail(f, i), dbssl_findings_hint(f, i));
    if (f == NULL || dbssl_findings_errors(f) > 0) {
        fprintf(stderr, "app: SSL configuration is invalid, not starting\n");
        goto out;
    }
    status = 1; /* from here on, a failure is a runtime failure */
    conn = dbssl_connect(cfg, tls, err);
    if (conn == NULL) {
        report(dbssl_tls_attribute(tls, "error_class"), dbssl_error_message(err),
               dbssl_error_detail(err), dbssl_error_hint(err));
        goto out;
    }
    /* every attribute this libdbssl knows, by name, as with libpq's PQsslAttribute() */
    for (const char *const *name = dbssl_tls_attribute_names(); *name != NULL; name++)
        printf("%s=%s\n", *name, dbssl_tls_attribute(tls, *name));
    status = 0;
out:
    PQfinish(conn);
    dbssl_findings_free(f);
    dbssl_config_free(cfg);
    dbssl_tls_state_free(tls);
    dbssl_error_free(err);
    return status;
}
