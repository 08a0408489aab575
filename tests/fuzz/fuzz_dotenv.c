/*
 * fuzz_dotenv.c - feeds arbitrary bytes to the .env parser and, when they
 * parse, every value to the DATABASE_URL masking, checking that a parsed
 * password never survives masking.
 *
 * With clang and -DDBSSL_FUZZ=ON this is a libFuzzer target; otherwise
 * replay.c's main() replays the committed corpus (what CTest runs).
 */
#include "config.h"
#include "dotenv.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    struct dotenv env;
    struct dbssl_error e;

    dbssl_error_clear(&e);
    if (dotenv_parse((const char *)data, size, "fuzz.env", &env, &e) != 0) {
        /* messages must stay NUL-terminated and bounded */
        if (strlen(e.message) >= sizeof(e.message))
            abort();
        return 0;
    }
    for (size_t i = 0; i < env.n; i++) {
        const char *envp[] = {NULL, NULL};
        char *kv = xasprintf("DATABASE_URL=%s", env.entries[i].value);
        struct dbssl_config *cfg;

        envp[0] = kv;
        cfg = dbssl_config_load_from(fuzz_empty_env_file(), true, envp, NULL);
        if (cfg == NULL)
            abort(); /* an empty env file and one setting: only out of memory fails */
        /* a password of 4+ characters must never appear in the displayed
         * URL (fuzz_url.c has the finer oracle) */
        if (cfg->url.password && strlen(cfg->url.password) >= 4 &&
            strstr(dbssl_config_display_value(cfg, OPT_DATABASE_URL, NULL), cfg->url.password) !=
                NULL &&
            strstr(dbssl_config_display_value(cfg, OPT_DATABASE_URL, NULL), "***") == NULL)
            abort();
        dbssl_config_free(cfg);
        free(kv);
    }
    dotenv_free(&env);
    return 0;
}
