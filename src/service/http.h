/*
 * http.h - the health endpoints over libmicrohttpd.
 *
 *   GET|HEAD /health/database/ssl   the TLS report (200 healthy/degraded, 503 unhealthy)
 *   GET|HEAD /health/database       connectivity, version, latency
 *   GET|HEAD /health                liveness: 200 while the process runs
 *   GET|HEAD /health/ready          200 when healthy or degraded, else 503
 *   GET|HEAD /metrics               Prometheus text format (always 200)
 *   GET|HEAD /probe?target=&module= a fleet probe (probe/prober.h), Prometheus text format
 *   GET|HEAD /probe/overview        the last probe of each target, HTML
 *
 * Every answer comes from the board's current snapshot; "?refresh=1" first
 * asks the checker for a new check and answers when it finished, at most
 * DB_CONNECT_TIMEOUT + 1 s later (X-Dbssl-Refresh: done or timed-out),
 * holding no thread meanwhile.  /metrics also carries the server's own
 * counters (connections held, refused, timed out).
 */
#ifndef DBSSL_HTTP_H
#define DBSSL_HTTP_H

#include "checker.h"
#include "error_int.h"
#include "health.h"

struct dbssl_http;

/*
 * Binds exactly to addr ("HOST:PORT" or "[IPv6]:PORT") and starts
 * serving.  A malformed address is DBSSL_ERR_USAGE, a port in use
 * DBSSL_ERR_IO, both naming the address.  board and checker must outlive
 * the server.
 */
struct dbssl_http *dbssl_http_start(const char *addr, struct dbssl_board *board,
                                    struct dbssl_checker *checker,
                                    struct dbssl_error *err) DBSSL_MUSTCHECK;

/*
 * Gives the server the checker that ?refresh=1 asks for a check.  Serving
 * starts before the checker so that a busy port fails before anything
 * connects to the database or tells systemd it is ready.
 */
void dbssl_http_attach_checker(struct dbssl_http *h, struct dbssl_checker *checker);

struct dbssl_prober;

/*
 * Gives the server the prober that answers /probe (DB_PROBE_CONFIG); without
 * one /probe is 404.  A probe request is suspended while a worker probes
 * and answered when it finished, or at its deadline (the scrape timeout)
 * plus DBSSL_PROBE_GRACE_MS as a timeout.  The prober must outlive the
 * server.
 */
void dbssl_http_attach_prober(struct dbssl_http *h, struct dbssl_prober *prober);

/* The address actually bound, e.g. "127.0.0.1:8000". */
const char *dbssl_http_address(const struct dbssl_http *h);

/*
 * Stops serving and frees h; NULL is fine.  Requests waiting for a check
 * are answered (timed-out) first, so this never waits for the database.
 */
void dbssl_http_stop(struct dbssl_http *h);

#endif
