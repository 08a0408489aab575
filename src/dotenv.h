/*
 * dotenv.h - the .env file syntax users know from python-dotenv, docker
 * compose and the shells: KEY=VALUE, "export KEY=VALUE", # comments, blank
 * lines, 'literal' and "escaped" values (\n \" \\), a trailing " # comment"
 * after unquoted values, CRLF line endings.  Later duplicates win.
 */
#ifndef DBSSL_DOTENV_H
#define DBSSL_DOTENV_H

#include <stddef.h>

#include "error_int.h"

struct dotenv_entry {
    char *key;
    char *value;
    int line;
};

struct dotenv {
    struct dotenv_entry *entries;
    size_t n;
};

/*
 * Parses text (len bytes, NUL not required); filename is used in messages.
 * On a syntax error sets err naming "filename:line" and returns -1; out is
 * then empty.  Messages never echo the offending line, which may hold a secret.
 */
int dotenv_parse(const char *text, size_t len, const char *filename, struct dotenv *out,
                 struct dbssl_error *err) DBSSL_MUSTCHECK;

/* Reads and parses a file. */
int dotenv_load(const char *path, struct dotenv *out, struct dbssl_error *err) DBSSL_MUSTCHECK;

/* The value of key, or NULL (last one wins). */
const char *dotenv_get(const struct dotenv *env, const char *key);

void dotenv_free(struct dotenv *env);

#endif
