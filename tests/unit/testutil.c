/* testutil.c - helpers shared by the cmocka tests (see testutil.h). */
#include "testutil.h"

#include <stdlib.h>
#include <unistd.h>

#include "dbssl/config.h"

struct dbssl_config *test_config_from(const char *const *envp)
{
    char path[] = "/tmp/dbssl_test_env.XXXXXX";
    int fd = mkstemp(path);
    struct dbssl_error e;
    struct dbssl_config *cfg;

    assert_true(fd >= 0);
    close(fd);
    dbssl_error_clear(&e);
    cfg = dbssl_config_load_from(path, true, envp, &e);
    unlink(path);
    if (cfg == NULL)
        fail_msg("loading the settings failed: %s", e.message);
    return cfg;
}
