/*
 * fuzz_common.h - what the fuzz targets share: an empty env file to load
 * settings from (a named env file must exist; the default ./.env would read
 * whatever lies in the working directory), and the replay main() that CTest
 * runs when the targets are built without libFuzzer.
 */
#ifndef DBSSL_FUZZ_COMMON_H
#define DBSSL_FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static char fuzz_env_path[] = "/tmp/dbssl-fuzz-env.XXXXXX";

static void fuzz_env_remove(void)
{
    (void)unlink(fuzz_env_path);
}

/* The path of an empty, private env file, made on first use and removed at exit. */
static inline const char *fuzz_empty_env_file(void)
{
    static bool made;

    if (!made) {
        int fd = mkstemp(fuzz_env_path);
        if (fd < 0) {
            perror("fuzz: mkstemp");
            abort();
        }
        close(fd);
        atexit(fuzz_env_remove);
        made = true;
    }
    return fuzz_env_path;
}

#ifndef DBSSL_LIBFUZZER
/* A target's own replay of an argument (e.g. a table of forms); returns the
 * number of inputs it ran, or 0 when the argument is an ordinary input file.
 * A target with one defines FUZZ_REPLAY_SPECIAL before including this. */
#ifdef FUZZ_REPLAY_SPECIAL
static int fuzz_replay_special(const char *arg);
#else
static int fuzz_replay_special(const char *arg)
{
    (void)arg;
    return 0;
}
#endif

int main(int argc, char **argv)
{
    int n = 0;

    for (int i = 1; i < argc; i++) {
        char *buf = NULL;
        size_t len = 0;
        int k = fuzz_replay_special(argv[i]);

        if (k < 0) {
            fprintf(stderr, "cannot replay %s\n", argv[i]);
            return 1;
        }
        if (k > 0) {
            n += k;
            continue;
        }
        if (read_file(argv[i], "corpus file", 1 << 20, &buf, &len, NULL) != 0) {
            fprintf(stderr, "cannot read %s\n", argv[i]);
            return 1;
        }
        LLVMFuzzerTestOneInput((const unsigned char *)buf, len);
        free(buf);
        n++;
    }
    printf("replayed %d inputs\n", n);
    return 0;
}
#endif

#endif
