/*
 * common.c - helpers shared by the subcommands: error and usage printing,
 * loading the settings, rendering validation findings.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void cli_print_usage(FILE *f, const struct cli_command *cmd)
{
    fprintf(f, "%s", cmd->usage);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "dbssl %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nRun \"dbssl help %s\" for usage.\n", cmd);
    return EXIT_CONFIG;
}

int cli_option_error(const char *cmd, int c, char **argv)
{
    if (c == ':')
        return cli_usage_error(cmd, "option \"%s\" needs a value", argv[optind - 1]);
    return cli_usage_error(cmd, "unknown option \"%s\"", argv[optind - 1]);
}

void cli_print_error(const struct dbssl_error *e)
{
    fprintf(stderr, "dbssl: error: %s\n", e->message[0] ? e->message : dbssl_strerror(e->code));
    if (e->hint[0])
        fprintf(stderr, "  hint: %s\n", e->hint);
}

struct dbssl_config *cli_load_config(const char *env_file)
{
    struct dbssl_error e;
    struct dbssl_config *cfg;

    dbssl_error_clear(&e);
    cfg = dbssl_config_load(env_file, &e);
    if (cfg == NULL)
        cli_print_error(&e);
    return cfg;
}

static json_t *finding_json(const struct dbssl_finding *fd)
{
    return json_pack("{s:s, s:s, s:s}", "setting", fd->setting, "message", fd->message, "hint",
                     fd->hint);
}

int cli_print_findings(const struct dbssl_findings *f, bool json)
{
    size_t nerr = dbssl_findings_errors(f), nwarn = dbssl_findings_warnings(f);

    if (json) {
        json_t *root = json_object(), *errs = json_array(), *warns = json_array();
        char *s;
        for (size_t i = 0; i < dbssl_findings_count(f); i++) {
            const struct dbssl_finding *fd = dbssl_findings_at(f, i);
            json_array_append_new(fd->severity == DBSSL_SEVERITY_ERROR ? errs : warns,
                                  finding_json(fd));
        }
        json_object_set_new(root, "valid", json_boolean(nerr == 0));
        json_object_set_new(root, "errors", errs);
        json_object_set_new(root, "warnings", warns);
        s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (s)
            printf("%s\n", s);
        free(s);
        json_decref(root);
    } else {
        for (size_t i = 0; i < dbssl_findings_count(f); i++) {
            const struct dbssl_finding *fd = dbssl_findings_at(f, i);
            printf("%s: %s: %s\n", dbssl_severity_name(fd->severity), fd->setting, fd->message);
            if (fd->hint[0])
                printf("  hint: %s\n", fd->hint);
        }
        if (nerr > 0)
            printf("configuration is invalid: %zu error%s, %zu warning%s\n", nerr,
                   nerr == 1 ? "" : "s", nwarn, nwarn == 1 ? "" : "s");
        else
            printf("configuration is valid (%zu warning%s)\n", nwarn, nwarn == 1 ? "" : "s");
    }
    return nerr > 0 ? EXIT_CONFIG : EXIT_OK;
}
