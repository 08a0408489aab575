#!/usr/bin/python3
"""exec_app.py - an application as the guide's users write one: it connects
with os.environ["DATABASE_URL"] and nothing else, no ssl option anywhere in
the program.  test_exec.sh starts it through `dbssl exec`.

usage: exec_app.py psycopg2|psycopg MARKER [--url-only]

It creates MARKER first (the proof that it started at all), then prints its
own session as the server sees it (pg_stat_ssl, pg_stat_activity) and the
sslmode the driver's libpq used, on one line:

  ssl=t version=TLSv1.3 client_cert=t user=app app=... sslmode=verify-full protocol=TLSv1.3

--url-only removes every PG* variable first (libpq would read them as
defaults), so that only the URL can have carried the settings.
"""
import os
import sys

driver, marker = sys.argv[1], sys.argv[2]
open(marker, "w").close()
if "--url-only" in sys.argv[3:]:
    for name in [n for n in os.environ if n.startswith("PG")]:
        del os.environ[name]

QUERY = ("select s.ssl, s.version, s.client_dn is not null, current_user, a.application_name"
         " from pg_stat_ssl s join pg_stat_activity a using (pid) where s.pid = pg_backend_pid()")

if driver == "psycopg2":
    import psycopg2
    conn = psycopg2.connect(os.environ["DATABASE_URL"])
    sslmode = conn.get_dsn_parameters()["sslmode"]
    protocol = conn.info.ssl_attribute("protocol")
else:
    import psycopg
    conn = psycopg.connect(os.environ["DATABASE_URL"])
    sslmode = conn.info.get_parameters().get("sslmode")
    # psycopg 3.1 exposes no PQsslAttribute; pg_stat_ssl has the version
    protocol = "in-use" if conn.pgconn.ssl_in_use else "none"
cur = conn.cursor()
cur.execute(QUERY)
ssl, version, client_cert, user, app = cur.fetchone()
print("ssl=%s version=%s client_cert=%s user=%s app=%s sslmode=%s protocol=%s" % (
    "t" if ssl else "f", version, "t" if client_cert else "f", user, app or "-", sslmode, protocol))
conn.close()
