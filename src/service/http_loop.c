/*
 * http_loop.c - the HTTP server's event-loop threads (see http_loop.h).
 *
 * Each thread waits in its own epoll instance on four descriptors:
 * libmicrohttpd's epoll descriptor (readable when one of its connections
 * is), the shared listening socket (EPOLLEXCLUSIVE: one thread is woken for
 * a new connection, not all), the stop eventfd and its own wake eventfd.
 * Accepting is batched so that a burst of connects cannot starve the
 * connections already held.
 *
 * The wake eventfd, and not libmicrohttpd's own inter-thread signal, is
 * what a resumed connection relies on: MHD_run() takes up resumed
 * connections only at its start and clears that signal later on, so a
 * resume that lands in between would wait for the next unrelated event.
 * dbssl_http_loop_wake() after MHD_resume_connection(), and the drain of
 * the eventfd before MHD_run(), make sure some MHD_run() starts after it.
 */
#include "http_loop.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "clock.h"

#define ACCEPT_BATCH 32  /* connections accepted per wake before serving the others */
#define FD_PAUSE_MS  100 /* out of descriptors: how long a thread stops accepting */

enum { EV_MHD = 1, EV_LISTEN, EV_STOP, EV_WAKE };

struct worker {
    struct dbssl_http_worker pub;
    struct dbssl_http_loop *loop;
    pthread_t thread;
    bool started;
    int ep;      /* our epoll instance */
    int wake_fd; /* eventfd: dbssl_http_worker_wake() */
    /* out of descriptors: the listening socket is out of ep until then
     * (level-triggered, it would wake us in a busy loop), 0 when it is in */
    long long paused_until;
};

struct dbssl_http_loop {
    int listen_fd;
    int stop_fd; /* eventfd: readable (for good) once stopping */
    atomic_bool stopping;
    struct dbssl_http_admit *admit;
    unsigned n;
    struct worker w[];
};

/* Out of descriptors (or memory): stop accepting for a moment rather than spin. */
static void pause_accepting(struct worker *w)
{
    if (w->paused_until == 0 && epoll_ctl(w->ep, EPOLL_CTL_DEL, w->loop->listen_fd, NULL) == 0)
        w->paused_until = dbssl_mono_ms() + FD_PAUSE_MS;
}

/* Accepts what is waiting (a batch at most), each admitted or refused. */
static void accept_some(struct worker *w)
{
    struct dbssl_http_loop *l = w->loop;

    for (int i = 0; i < ACCEPT_BATCH; i++) {
        struct sockaddr_storage sa;
        socklen_t len = sizeof(sa);
        int fd = accept4(l->listen_fd, (struct sockaddr *)&sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        struct dbssl_http_peer peer;

        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                pause_accepting(w);
            else if (errno == ECONNABORTED || errno == EINTR || errno == EPROTO)
                continue; /* that one is gone: the next may be there */
            return;       /* EAGAIN: nothing waiting, or another thread took it */
        }
        peer = dbssl_http_peer_of((struct sockaddr *)&sa, len);
        if (!dbssl_http_admit_take(l->admit, &peer)) {
            close(fd); /* counted as refused */
            continue;
        }
        w->pub.adding = peer;
        w->pub.adopted = false;
        /* closes fd itself when it fails */
        (void)MHD_add_connection(w->pub.daemon, fd, (struct sockaddr *)&sa, len);
        if (!w->pub.adopted)
            dbssl_http_admit_release(l->admit, &peer);
    }
}

static int watch(int ep, int fd, uint32_t events, uint32_t tag)
{
    struct epoll_event e = {.events = events, .data.u32 = tag};

    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
}

/*
 * How long the thread may sleep: what libmicrohttpd allows (-1: no limit),
 * shortened to the end of a pause in accepting, which it ends when due.
 */
static int sleep_ms(struct worker *w)
{
    MHD_UNSIGNED_LONG_LONG t;
    long long ms = MHD_get_timeout(w->pub.daemon, &t) == MHD_YES ? (long long)t : -1;

    if (w->paused_until != 0) {
        long long left = w->paused_until - dbssl_mono_ms();
        if (left <= 0 &&
            watch(w->ep, w->loop->listen_fd, EPOLLIN | EPOLLEXCLUSIVE, EV_LISTEN) == 0) {
            w->paused_until = 0;
        } else {
            left = left < 1 ? 1 : left;
            ms = ms < 0 || ms > left ? left : ms;
        }
    }
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct dbssl_http_loop *l = w->loop;
    struct sched_param sp = {0};

    /* SCHED_BATCH: the same share of the CPU, but the scheduler takes the
     * event loops for the CPU-bound work they are under load, so that a
     * task that wakes (the checker's thread, the database backend it
     * waits on) runs before them rather than queueing behind.  Without it
     * the check took 2.6-3.6 times its idle duration at wrk -c1024, with
     * it 1.4-1.7 times (BENCHMARKS.md).  Needs no privilege; changes
     * nothing when idle. */
    (void)pthread_setschedparam(pthread_self(), SCHED_BATCH, &sp);

    while (!atomic_load(&l->stopping)) {
        struct epoll_event ev[4];
        int n = epoll_wait(w->ep, ev, 4, sleep_ms(w));
        uint64_t count;

        for (int i = 0; i < n; i++) {
            if (ev[i].data.u32 == EV_WAKE)
                (void)!read(w->wake_fd, &count, sizeof(count)); /* before MHD_run() */
            else if (ev[i].data.u32 == EV_LISTEN && !atomic_load(&l->stopping))
                accept_some(w);
        }
        MHD_run(w->pub.daemon); /* never blocks: its own epoll_wait() gets a zero timeout */
    }
    /* requests resumed just before the stop are answered (as far as the
     * socket takes the bytes at once) before the daemon closes them */
    MHD_run(w->pub.daemon);
    return NULL;
}

/* The thread's epoll set; -1 on failure. */
static int setup_worker(struct dbssl_http_loop *l, struct worker *w)
{
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(w->pub.daemon, MHD_DAEMON_INFO_EPOLL_FD);

    w->ep = epoll_create1(EPOLL_CLOEXEC);
    w->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (w->ep < 0 || w->wake_fd < 0 || di == NULL ||
        watch(w->ep, di->epoll_fd, EPOLLIN, EV_MHD) != 0 ||
        watch(w->ep, l->listen_fd, EPOLLIN | EPOLLEXCLUSIVE, EV_LISTEN) != 0 ||
        watch(w->ep, l->stop_fd, EPOLLIN, EV_STOP) != 0 ||
        watch(w->ep, w->wake_fd, EPOLLIN, EV_WAKE) != 0)
        return -1;
    return 0;
}

struct dbssl_http_loop *
dbssl_http_loop_start(int listen_fd, unsigned threads, struct dbssl_http_admit *admit,
                      struct MHD_Daemon *(*start_daemon)(void *arg, struct dbssl_http_worker *w),
                      void *arg)
{
    struct dbssl_http_loop *l;

    if (threads < 1)
        threads = 1;
    l = calloc(1, sizeof(*l) + threads * sizeof(l->w[0]));
    if (l == NULL)
        return NULL;
    l->listen_fd = listen_fd;
    l->admit = admit;
    l->n = threads;
    atomic_init(&l->stopping, false);
    for (unsigned i = 0; i < threads; i++) {
        l->w[i].ep = l->w[i].wake_fd = -1;
        l->w[i].loop = l;
        l->w[i].pub.index = i;
        l->w[i].pub.arg = arg;
    }
    l->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    /* several threads accept on it: whoever comes second must not block */
    if (l->stop_fd < 0 || fcntl(listen_fd, F_SETFL, fcntl(listen_fd, F_GETFL) | O_NONBLOCK) != 0)
        goto fail;
    for (unsigned i = 0; i < threads; i++) {
        struct worker *w = &l->w[i];
        if ((w->pub.daemon = start_daemon(arg, &w->pub)) == NULL || setup_worker(l, w) != 0 ||
            pthread_create(&w->thread, NULL, worker_main, w) != 0)
            goto fail;
        w->started = true;
        (void)pthread_setname_np(w->thread, "dbssl-http");
    }
    return l;
fail:
    dbssl_http_loop_stop(l);
    return NULL;
}

void dbssl_http_worker_wake(struct dbssl_http_worker *pub)
{
    struct worker *w = (struct worker *)(void *)((char *)pub - offsetof(struct worker, pub));
    uint64_t one = 1;

    (void)!write(w->wake_fd, &one, sizeof(one));
}

void dbssl_http_loop_stop(struct dbssl_http_loop *l)
{
    uint64_t one = 1;

    if (l == NULL)
        return;
    atomic_store(&l->stopping, true);
    if (l->stop_fd >= 0)
        (void)!write(l->stop_fd, &one, sizeof(one));
    for (unsigned i = 0; i < l->n; i++)
        if (l->w[i].started)
            pthread_join(l->w[i].thread, NULL);
    for (unsigned i = 0; i < l->n; i++) {
        /* no thread runs it any more: stopping here is allowed (external mode) */
        if (l->w[i].pub.daemon != NULL)
            MHD_stop_daemon(l->w[i].pub.daemon);
        if (l->w[i].ep >= 0)
            close(l->w[i].ep);
        if (l->w[i].wake_fd >= 0)
            close(l->w[i].wake_fd);
    }
    if (l->stop_fd >= 0)
        close(l->stop_fd);
    free(l);
}
