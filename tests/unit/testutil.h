/* testutil.h - helpers for the cmocka tests: temp dirs, files, certificates. */
#ifndef DBSSL_TESTUTIL_H
#define DBSSL_TESTUTIL_H
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <cmocka.h>

struct dbssl_config;

/*
 * Loads a config from envp alone (an empty dotenv file, so that no ./.env
 * of the machine leaks in).  Fails the test when loading fails.
 */
struct dbssl_config *test_config_from(const char *const *envp);
#endif
