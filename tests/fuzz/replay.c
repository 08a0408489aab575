/*
 * replay.c - the main() of every fuzz target when it is not built for
 * libFuzzer: runs LLVMFuzzerTestOneInput on each file named on the command
 * line (the committed corpus), which is what CTest does.  A target built with
 * FUZZ_REPLAY_SPECIAL first offers each argument to its fuzz_replay_special()
 * (the url target's table of URL forms).
 */
#include "fuzz_common.h"

int main(int argc, char **argv)
{
    int n = 0;

    for (int i = 1; i < argc; i++) {
        char *buf = NULL;
        size_t len = 0;
#ifdef FUZZ_REPLAY_SPECIAL
        int k = fuzz_replay_special(argv[i]);

        if (k < 0) {
            fprintf(stderr, "cannot replay %s\n", argv[i]);
            return 1;
        }
        if (k > 0) {
            n += k;
            continue;
        }
#endif
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
