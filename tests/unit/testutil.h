/* testutil.h - helpers for the cmocka tests: temp dirs, files, certificates. */
#ifndef DBSSL_TESTUTIL_H
#define DBSSL_TESTUTIL_H
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <cmocka.h>
#endif
