/*
 * fuzz_common.h - what the fuzz targets share: the entry points replay.c
 * calls, and an empty env file to load settings from (a named env file must
 * exist; the default ./.env would read whatever lies in the working
 * directory).
 */
#ifndef DBSSL_FUZZ_COMMON_H
#define DBSSL_FUZZ_COMMON_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/*
 * A target's own replay of a command-line argument that is not one input (a
 * table of forms: fuzz_url.c reads tests/data/url_forms/forms.tsv); returns
 * the number of inputs it ran, 0 when arg is an ordinary input file, -1 when
 * it cannot be read.  replay.c calls it only in a target built with
 * FUZZ_REPLAY_SPECIAL (tests/CMakeLists.txt).
 */
int fuzz_replay_special(const char *arg);

/* The env file's path: a mkstemp template until fuzz_empty_env_file() made it. */
static inline char *fuzz_env_path(void)
{
    static char path[] = "/tmp/dbssl-fuzz-env.XXXXXX";

    return path;
}

static inline void fuzz_env_remove(void)
{
    (void)unlink(fuzz_env_path());
}

/* The path of an empty, private env file, made on first use and removed at exit. */
static inline const char *fuzz_empty_env_file(void)
{
    static bool made;

    if (!made) {
        int fd = mkstemp(fuzz_env_path());
        if (fd < 0) {
            perror("fuzz: mkstemp");
            abort();
        }
        close(fd);
        atexit(fuzz_env_remove);
        made = true;
    }
    return fuzz_env_path();
}

#endif
