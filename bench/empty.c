/*
 * empty.c - the floor of a whole-process command: a program that does
 * nothing but is linked with libpq (and so loads what libpq loads: OpenSSL,
 * Kerberos, LDAP).  bench/run.sh compares `dbssl validate` with it.
 */
#include <libpq-fe.h>

int main(void)
{
    /* one call, so that the link keeps libpq */
    return PQlibVersion() > 0 ? 0 : 1;
}
