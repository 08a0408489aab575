/*
 * fuzz_url.c - DATABASE_URL parsing and masking, with an oracle: a password
 * never appears in anything dbssl would print about the URL.
 *
 * The input is a DATABASE_URL in which each byte 0x01 stands for a marker
 * password and each 0x02 for one percent-encoded; every occurrence gets its
 * own marker ("Qx7_Kp2Vz9" and two letters), so that a marker libpq overrides
 * (user=M1 ... user=app) says nothing about another.  libpq is the judge of
 * where a password is.  A marker must stay hidden when PQconninfoParse rejects
 * the URL (then nothing of it may be shown beyond a scheme, and a marker holds
 * "_", which no scheme has), or when it accepts the URL and the marker is in
 * the value of password or sslpassword and of no other keyword (where showing
 * it is right).  Hidden means: in clear or %-encoded, in either case, in none
 * of the displayed value (`dbssl config`), the description of a rejected URL,
 * the findings of validation (message, detail, hint) and the error of building
 * libpq's connection parameters (message, detail, hint).  A leak calls
 * abort(), which libFuzzer reports with the input.
 *
 * With clang and -DDBSSL_FUZZ=ON this is a libFuzzer target; otherwise
 * replay.c's main() replays files (the committed seeds) and, through
 * fuzz_replay_special() below, the forms of tests/data/url_forms/forms.tsv
 * ({PW} and {PWPCT} become marker bytes 1 and 2), which is what CTest runs.
 */
#include <libpq-fe.h>

#include "config.h"
#include "conn_int.h"
#include "fuzz_common.h"
#include "validate.h"

#define URL_MAX     4096
#define MARKER_STEM "Qx7_Kp2Vz9" /* and two letters */
#define MARKERS_MAX 676          /* two letters each; later occurrences get no marker */

struct markers {
    char clear[MARKERS_MAX][16];
    char pct[MARKERS_MAX][40];
    bool hidden[MARKERS_MAX];
    int n;
};

/* A new marker, in clear or %-encoded, appended to sb. */
static void marker_add(struct markers *m, struct strbuf *sb, bool pct)
{
    int i = m->n;
    size_t len;

    if (i == MARKERS_MAX) {
        strbuf_append_c(sb, '-');
        return;
    }
    m->n++;
    snprintf(m->clear[i], sizeof(m->clear[i]), MARKER_STEM "%c%c", 'a' + i / 26, 'a' + i % 26);
    len = strlen(m->clear[i]);
    for (size_t k = 0; k < len; k++)
        snprintf(m->pct[i] + 3 * k, sizeof(m->pct[i]) - 3 * k, "%%%02X",
                 (unsigned char)m->clear[i][k]);
    strbuf_append(sb, pct ? m->pct[i] : m->clear[i]);
}

static bool has_marker(const struct markers *m, int i, const char *s)
{
    return s != NULL && (strcasestr(s, m->clear[i]) != NULL || strcasestr(s, m->pct[i]) != NULL);
}

static void check(const struct markers *m, const char *what, const char *url, const char *shown)
{
    for (int i = 0; i < m->n; i++) {
        if (!m->hidden[i] || !has_marker(m, i, shown))
            continue;
        fprintf(stderr,
                "fuzz_url: the password leaks through %s\n  url:    %s\n  shown:  %s\n  marker: "
                "%s\n",
                what, url, shown, m->clear[i]);
        abort();
    }
}

/* Which markers must stay hidden: all when libpq rejects url, else those it
 * calls a password and nothing else.  Returns whether any must. */
static bool mark_hidden(struct markers *m, const char *url)
{
    char *errmsg = NULL;
    PQconninfoOption *opts = PQconninfoParse(url, &errmsg);
    bool any = false;

    for (int i = 0; i < m->n; i++) {
        bool secret = false, public = false;
        for (PQconninfoOption *o = opts; o != NULL && o->keyword; o++) {
            if (!has_marker(m, i, o->val))
                continue;
            if (strcmp(o->keyword, "password") == 0 || strcmp(o->keyword, "sslpassword") == 0)
                secret = true;
            else
            public = true;
        }
        m->hidden[i] = opts == NULL || (secret && !public);
        any = any || m->hidden[i];
    }
    PQconninfoFree(opts);
    PQfreemem(errmsg);
    return any;
}

static void check_url(struct markers *m, const char *url)
{
    const char *envp[] = {NULL, NULL};
    char *kv = xasprintf("DATABASE_URL=%s", url);
    struct dbssl_config *cfg;
    struct dbssl_findings *f;
    struct dbssl_conn_params p;
    struct dbssl_error e;

    if (kv == NULL)
        abort();
    envp[0] = kv;
    dbssl_error_clear(&e);
    cfg = dbssl_config_load_from(fuzz_empty_env_file(), true, envp, &e);
    if (cfg == NULL)
        abort(); /* nothing to load but this string: only out of memory fails */
    if (mark_hidden(m, url)) {
        check(m, "the displayed value", url,
              dbssl_config_display_value(cfg, OPT_DATABASE_URL, NULL));
        check(m, "the description", url, cfg->url.error);
        /* validation opens the files the URL names (sslrootcert=...): not those */
        if (cfg->url.sslrootcert == NULL && cfg->url.sslcert == NULL && cfg->url.sslkey == NULL &&
            cfg->url.sslcrl == NULL && (f = dbssl_config_validate(cfg, &e)) != NULL) {
            for (size_t i = 0; i < dbssl_findings_count(f); i++) {
                check(m, "a finding", url, dbssl_findings_at(f, i)->message);
                check(m, "a finding's detail", url, dbssl_findings_at(f, i)->detail);
                check(m, "a finding's hint", url, dbssl_findings_at(f, i)->hint);
            }
            dbssl_findings_free(f);
        }
        dbssl_error_clear(&e);
        if (dbssl_conn_build_params(cfg, NULL, &p, &e) == 0)
            dbssl_conn_params_free(&p);
        check(m, "the connection parameters' error", url, e.message);
        check(m, "the connection parameters' error detail", url, e.detail);
        check(m, "the connection parameters' error hint", url, e.hint);
    }
    dbssl_config_free(cfg);
    free(kv);
}

static int hex(unsigned char c)
{
    return c >= '0' && c <= '9'                     ? c - '0'
           : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10
                                                    : -1;
}

/*
 * Whether the input spells a marker itself (the fuzzer learns the marker's
 * text from the oracle's comparisons): then a marker could stand in two
 * places, one where showing it is right, and the oracle would be wrong.
 * Spelled counts after %-decoding and dropping backslashes, as libpq reads
 * URIs and key=value strings.
 */
static bool spells_marker(const unsigned char *data, size_t size)
{
    char *flat = malloc(size + 1);
    size_t n = 0;
    bool found;

    if (flat == NULL)
        abort();
    for (size_t i = 0; i < size && data[i] != '\0'; i++) {
        if (data[i] == '%' && i + 2 < size && hex(data[i + 1]) >= 0 && hex(data[i + 2]) >= 0) {
            flat[n++] = (char)(hex(data[i + 1]) * 16 + hex(data[i + 2]));
            i += 2;
        } else if (data[i] != '\\') {
            flat[n++] = (char)data[i];
        }
    }
    flat[n] = '\0';
    found = strcasestr(flat, MARKER_STEM) != NULL;
    free(flat);
    return found;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    static struct markers *m; /* 60 KiB: not on the stack */
    struct strbuf sb;
    char *url;

    if (m == NULL && (m = malloc(sizeof(*m))) == NULL)
        abort();
    if (spells_marker(data, size))
        return 0;
    m->n = 0;
    strbuf_init(&sb);
    strbuf_append(&sb, "");
    /* an environment variable ends at its first NUL */
    for (size_t i = 0; i < size && data[i] != '\0' && sb.len < URL_MAX; i++) {
        if (data[i] == 1 || data[i] == 2)
            marker_add(m, &sb, data[i] == 2);
        else
            strbuf_append_c(&sb, (char)data[i]);
    }
    url = strbuf_take(&sb);
    if (url == NULL)
        abort();
    check_url(m, url);
    free(url);
    return 0;
}

/* replay.c's hook: runs every form of a forms.tsv file (NAME, KIND, URL); returns how many. */
int fuzz_replay_special(const char *path)
{
    size_t plen = strlen(path), len = 0;
    char *text = NULL, *line, *next;
    int n = 0;

    if (plen < 4 || strcmp(path + plen - 4, ".tsv") != 0)
        return 0;
    if (read_file(path, "URL forms", 1 << 20, &text, &len, NULL) != 0)
        return -1;
    for (line = text; line != NULL && *line != '\0'; line = next) {
        char *url = strchr(line, '\t');
        struct strbuf sb;

        if ((next = strchr(line, '\n')) != NULL)
            *next++ = '\0';
        if (line[0] == '#' || url == NULL || (url = strchr(url + 1, '\t')) == NULL)
            continue;
        url++;
        strbuf_init(&sb);
        for (const char *c = url; *c; c++) {
            if (strncmp(c, "{PW}", 4) == 0) {
                strbuf_append_c(&sb, 1);
                c += 3;
            } else if (strncmp(c, "{PWPCT}", 7) == 0) {
                strbuf_append_c(&sb, 2);
                c += 6;
            } else {
                strbuf_append_c(&sb, *c);
            }
        }
        LLVMFuzzerTestOneInput((const unsigned char *)sb.data, sb.len);
        strbuf_free(&sb);
        n++;
    }
    free(text);
    return n > 0 ? n : -1;
}
