/*
 * app.c - what the guide's application does, with dbssl: refuse to start on
 * invalid settings, connect with the configured TLS, print the TLS state.
 * Build: cc app.c $(pkg-config --cflags --libs dbssl)
 */
#include <dbssl/dbssl.h>
#include <stdio.h>

int main(void)
{
    struct dbssl_error err = {0};
    struct dbssl_config *cfg = dbssl_config_load(NULL, &err);
    struct dbssl_findings *f;
    struct dbssl_tls_state tls;
    PGconn *conn;

    if (cfg == NULL) {
        fprintf(stderr, "app: %s\n", err.message);
        return 2;
    }
    f = dbssl_config_validate(cfg, &err);
    if (f == NULL || dbssl_findings_errors(f) > 0) {
        for (size_t i = 0; f != NULL && i < dbssl_findings_count(f); i++) {
            const struct dbssl_finding *fd = dbssl_findings_at(f, i);
            if (fd->severity == DBSSL_SEVERITY_ERROR)
                fprintf(stderr, "app: %s: %s\n  hint: %s\n", fd->setting, fd->message, fd->hint);
        }
        fprintf(stderr, "app: SSL configuration is invalid, not starting\n");
        dbssl_findings_free(f);
        dbssl_config_free(cfg);
        return 2;
    }
    dbssl_findings_free(f);
    conn = dbssl_connect(cfg, &tls, &err);
    if (conn == NULL) {
        fprintf(stderr, "app: %s (%s)\n  hint: %s\n", err.message,
                dbssl_conn_class_name(tls.error_class), err.hint);
        dbssl_config_free(cfg);
        return 1;
    }
    printf("connected to %s:%s (PostgreSQL %s)\n", tls.server_host, tls.server_port,
           tls.server_version);
    printf("ssl_enabled=%s ssl_version=%s ssl_cipher=%s ssl_bits=%d\n",
           tls.ssl_in_use ? "true" : "false", tls.ssl_in_use ? tls.protocol : "none",
           tls.ssl_in_use ? tls.cipher : "none", tls.key_bits);
    if (tls.ssl_in_use)
        printf("server_certificate=%s\n", tls.server_cert_subject);
    PQfinish(conn);
    dbssl_config_free(cfg);
    return 0;
}
