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
#include "jsonutil.h"
#include "validate.h"

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

int cli_parse(int argc, char **argv, const struct cli_command *cmd, const struct cli_option *opts,
              int max_operands)
{
    struct option longopts[16];
    char shortopts[40] = ":h";
    size_t n = 0, len = 2;
    int c;

    for (; opts[n].name != NULL; n++) {
        /* the tables are static in the source: a bad one is a programming error */
        if (n + 2 >= sizeof(longopts) / sizeof(longopts[0]) || len + 3 >= sizeof(shortopts))
            abort();
        longopts[n] = (struct option){opts[n].name,
                                      opts[n].kind == CLI_STRING ? required_argument : no_argument,
                                      NULL, opts[n].letter};
        shortopts[len++] = opts[n].letter;
        if (opts[n].kind == CLI_STRING)
            shortopts[len++] = ':';
    }
    shortopts[len] = '\0';
    longopts[n++] = (struct option){"help", no_argument, NULL, 'h'};
    longopts[n] = (struct option){NULL, 0, NULL, 0};

    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        const struct cli_option *o = NULL;
        if (c == 'h') {
            cli_print_usage(stdout, cmd);
            return EXIT_OK;
        }
        if (c == ':')
            return cli_usage_error(cmd->name, "option \"%s\" needs a value", argv[optind - 1]);
        for (size_t i = 0; opts[i].name != NULL && o == NULL; i++)
            if (opts[i].letter == c)
                o = &opts[i];
        if (o == NULL)
            return cli_usage_error(cmd->name, "unknown option \"%s\"", argv[optind - 1]);
        if (o->kind == CLI_FLAG)
            *(bool *)o->target = true;
        else
            *(const char **)o->target = optarg;
    }
    if (max_operands >= 0 && argc - optind > max_operands)
        return cli_usage_error(cmd->name, "unexpected argument \"%s\"",
                               argv[optind + max_operands]);
    return -1;
}

void cli_print_error(const struct dbssl_error *e)
{
    fprintf(stderr, "dbssl: error: %s\n", e->message[0] ? e->message : dbssl_strerror(e->code));
    if (e->detail[0])
        fprintf(stderr, "  detail: %s\n", e->detail);
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
    return json_pack("{s:o, s:o, s:o, s:o, s:o}", "setting", dbssl_json_str(fd->setting), "source",
                     fd->source[0] ? dbssl_json_str(fd->source) : json_null(), "message",
                     dbssl_json_str(fd->message), "detail",
                     fd->detail[0] ? dbssl_json_str(fd->detail) : json_null(), "hint",
                     dbssl_json_str(fd->hint));
}

int cli_print_findings(FILE *out, const struct dbssl_findings *f, bool json)
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
            fprintf(out, "%s\n", s);
        free(s);
        json_decref(root);
    } else {
        for (size_t i = 0; i < dbssl_findings_count(f); i++) {
            const struct dbssl_finding *fd = dbssl_findings_at(f, i);
            fprintf(out, "%s: %s: %s\n", dbssl_severity_name(fd->severity), fd->setting,
                    fd->message);
            if (fd->detail[0])
                fprintf(out, "  detail: %s\n", fd->detail);
            if (fd->source[0])
                fprintf(out, "  source: %s\n", fd->source);
            if (fd->hint[0])
                fprintf(out, "  hint: %s\n", fd->hint);
        }
        if (nerr > 0)
            fprintf(out, "configuration is invalid: %zu error%s, %zu warning%s\n", nerr,
                    nerr == 1 ? "" : "s", nwarn, nwarn == 1 ? "" : "s");
        else
            fprintf(out, "configuration is valid (%zu warning%s)\n", nwarn, nwarn == 1 ? "" : "s");
    }
    return nerr > 0 ? EXIT_CONFIG : EXIT_OK;
}

int cli_findings_run_status(const struct dbssl_findings *f)
{
    int status = EXIT_OK;

    for (size_t i = 0; i < dbssl_findings_count(f); i++) {
        const struct dbssl_finding *fd = dbssl_findings_at(f, i);
        if (fd->severity != DBSSL_SEVERITY_ERROR)
            continue;
        if (!(fd->flags & DBSSL_FINDING_EXPIRY))
            return EXIT_CONFIG;
        status = EXIT_RUNTIME;
    }
    return status;
}
