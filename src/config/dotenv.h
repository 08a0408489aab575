/*
 * dotenv.h - the .env file syntax users know from python-dotenv, docker
 * compose and the shells: KEY=VALUE, "export KEY=VALUE", # comments, blank
 * lines, 'literal' and "escaped" values (\n \" \\), a trailing " # comment"
 * after unquoted values, CRLF line endings.  Later duplicates win.  Notes say
 * what parses but is likely a mistake: a NUL byte in a value, a key set twice,
 * a ${NAME} that is not set.
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

/*
 * Something in the file a user should hear about, though it parses: the
 * caller turns it into a finding (validate.c).
 */
enum dotenv_note_kind {
    DOTENV_NOTE_NUL,       /* a NUL byte in the value: it ends there */
    DOTENV_NOTE_DUPLICATE, /* key set again: line overrides other_line */
    DOTENV_NOTE_UNSET_REF, /* ${name} in the value is not set: it expanded to "" */
};

struct dotenv_note {
    enum dotenv_note_kind kind;
    int line;       /* the line of the entry concerned */
    int other_line; /* DUPLICATE: the earlier line; UNSET_REF: a later line setting name, or 0 */
    char *key;      /* the entry's key */
    char *name;     /* UNSET_REF: the variable referred to, else NULL */
};

struct dotenv {
    struct dotenv_entry *entries;
    size_t n;
    struct dotenv_note *notes;
    size_t n_notes;
};

/*
 * Parses text (len bytes, NUL not required); filename is used in messages.
 * On a syntax error sets err naming "filename:line" and returns -1; out is
 * then empty.  Messages never echo the offending line, which may hold a secret.
 */
int dotenv_parse(const char *text, size_t len, const char *filename, struct dotenv *out,
                 struct dbssl_error *err) DBSSL_MUSTCHECK;

/*
 * Expands ${NAME} and ${NAME:-default} in every value, as python-dotenv does
 * (the application reading the same file sees these values): NAME is looked
 * up in envp (a NULL-terminated "KEY=VALUE" array, NULL for none) first, then
 * in the lines above, then the default, else "".  $NAME without braces stays
 * as written.  A NAME not set anywhere becomes a note.  Returns -1 only when
 * out of memory.
 */
int dotenv_expand(struct dotenv *env, const char *const *envp) DBSSL_MUSTCHECK;

/* Reads and parses a file. */
int dotenv_load(const char *path, struct dotenv *out, struct dbssl_error *err) DBSSL_MUSTCHECK;

/* The value of key, or NULL (last one wins). */
const char *dotenv_get(const struct dotenv *env, const char *key);

void dotenv_free(struct dotenv *env);

/* Frees n notes taken out of a struct dotenv. */
void dotenv_notes_free(struct dotenv_note *notes, size_t n);

#endif
