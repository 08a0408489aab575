/*
 * controls_tsv.h - docs/controls.tsv as compiled into dbssl (the generated
 * controls_tsv.c, written by cmake/embed.cmake at build time): the one data
 * file that maps each audit control to the framework requirements it
 * evidences, with the source of each line.  Parsed by mapping.c.
 */
#ifndef DBSSL_AUDIT_CONTROLS_TSV_H
#define DBSSL_AUDIT_CONTROLS_TSV_H

#include <stddef.h>

extern const char dbssl_controls_tsv[];     /* NUL-terminated */
extern const size_t dbssl_controls_tsv_len; /* without the NUL */

#endif
