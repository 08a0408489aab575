/*
 * replay.c - the main() of every fuzz target when it is not built for
 * libFuzzer: runs LLVMFuzzerTestOneInput on each file named on the command
 * line (the committed corpus), which is what CTest does.
 */
#include <stdio.h>
#include <stdlib.h>

#include "util.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        char *buf = NULL;
        size_t len = 0;
        if (read_file(argv[i], "corpus file", 1 << 20, &buf, &len, NULL) != 0) {
            fprintf(stderr, "cannot read %s\n", argv[i]);
            return 1;
        }
        LLVMFuzzerTestOneInput((const unsigned char *)buf, len);
        free(buf);
    }
    printf("replayed %d inputs\n", argc - 1);
    return 0;
}
