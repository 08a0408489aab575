/*
 * cmd_config.c - `dbssl config`: the effective settings and where each came
 * from: the environment, a line of .env, DATABASE_URL, the default, or the
 * generated set (auto-generate).  Secrets (the DATABASE_URL password) are
 * shown as "***".  The
 * --markdown form is the settings table of the README, the --man form the
 * SETTINGS section of the manual page docs/dbssl.1 (tests keep both equal).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "jsonutil.h"

static void print_markdown(void)
{
    printf("| Setting | Type | Default | Description |\n|---|---|---|---|\n");
    for (size_t i = 0; i < dbssl_config_option_count(); i++) {
        const char *def = dbssl_config_option_default(i);
        printf("| `%s` | %s | %s%s%s | %s |\n", dbssl_config_option_name(i),
               dbssl_config_option_type(i), def[0] ? "`" : "", def[0] ? def : "(unset)",
               def[0] ? "`" : "", dbssl_config_option_description(i));
    }
}

/* Text for a roff line: backslashes escaped, "-" as a minus (values are typed
 * as shown, never as a typographic hyphen), a leading "." or "'" made text. */
static void print_roff(const char *s)
{
    if (*s == '.' || *s == '\'')
        fputs("\\&", stdout);
    for (; *s; s++) {
        if (*s == '\\')
            fputs("\\e", stdout);
        else if (*s == '-')
            fputs("\\-", stdout);
        else
            putchar(*s);
    }
}

static void print_man(void)
{
    for (size_t i = 0; i < dbssl_config_option_count(); i++) {
        const char *def = dbssl_config_option_default(i);
        fputs(".TP\n.B ", stdout);
        print_roff(dbssl_config_option_name(i));
        printf("\n\\fI%s\\fR, ", dbssl_config_option_type(i));
        if (def[0] != '\0') {
            fputs("default \\fB", stdout);
            print_roff(def);
            fputs("\\fR", stdout);
        } else {
            fputs("no default", stdout);
        }
        fputs(": ", stdout);
        print_roff(dbssl_config_option_description(i));
        putchar('\n');
    }
}

static int print_settings(const struct dbssl_config *cfg, bool json)
{
    size_t n = dbssl_config_option_count();

    if (json) {
        json_t *root = json_object(), *arr = json_array();
        const char *envf = dbssl_config_env_file(cfg);
        char *s;
        for (size_t i = 0; i < n; i++) {
            enum dbssl_source src;
            const char *v = dbssl_config_display_value(cfg, i, &src);
            json_array_append_new(
                arr, json_pack("{s:s, s:o, s:s, s:o, s:s}", "name", dbssl_config_option_name(i),
                               "value", dbssl_json_str(v), "source", dbssl_source_name(src), "from",
                               dbssl_json_str(dbssl_config_source(cfg, i)), "default",
                               dbssl_config_option_default(i)));
        }
        json_object_set_new(root, "env_file", dbssl_json_str(envf));
        json_object_set_new(root, "settings", arr);
        s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (s)
            printf("%s\n", s);
        free(s);
        json_decref(root);
        return EXIT_OK;
    }
    printf("# env file: %s\n", dbssl_config_env_file(cfg) ? dbssl_config_env_file(cfg) : "(none)");
    for (size_t i = 0; i < n; i++) {
        const char *v = dbssl_config_display_value(cfg, i, NULL);
        printf("%-32s %-40s (%s)\n", dbssl_config_option_name(i), v[0] ? v : "(unset)",
               dbssl_config_source(cfg, i));
    }
    return EXIT_OK;
}

static int run(int argc, char **argv)
{
    const char *env_file = NULL;
    bool json = false, markdown = false, man = false;
    struct dbssl_config *cfg;
    int c, status;

    const struct cli_option opts[] = {
        {"env-file", 'e', CLI_STRING, &env_file},
        {"json", 'j', CLI_FLAG, &json},
        {"markdown", 'm', CLI_FLAG, &markdown},
        {"man", 'M', CLI_FLAG, &man},
        {NULL, 0, CLI_FLAG, NULL},
    };

    if ((c = cli_parse(argc, argv, &cmd_config, opts, 0)) >= 0)
        return c;
    if (markdown || man) {
        if (markdown)
            print_markdown();
        else
            print_man();
        return EXIT_OK;
    }
    cfg = cli_load_config(env_file);
    if (cfg == NULL)
        return EXIT_CONFIG;
    status = print_settings(cfg, json);
    dbssl_config_free(cfg);
    return status;
}

const struct cli_command cmd_config = {
    "config",
    run,
    "show the effective settings and where each came from",
    "Usage: dbssl config [--env-file FILE] [--json | --markdown | --man]\n"
    "\n"
    "Prints every setting with its effective value and where it came from:\n"
    "environment, .env line N (the dotenv file), DATABASE_URL (an ssl keyword in\n"
    "the URL, and where the URL was set), default, or auto-generate (a file of\n"
    "the generated set when DB_SSL_AUTO_GENERATE=true and the setting is unset).\n"
    "The DATABASE_URL password is shown as ***.  With --json each setting has\n"
    "\"source\" (environment, .env, DATABASE_URL, default, auto-generate) and\n"
    "\"from\" (the text above).\n"
    "\n"
    "  --env-file FILE  read FILE instead of ./.env (it must exist)\n"
    "  --json           print as JSON\n"
    "  --markdown       print the table of settings and defaults (no loading)\n"
    "  --man            the same as the manual page's SETTINGS entries (roff)\n",
};
