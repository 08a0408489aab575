/*
 * test_audit.c - the audit's judgement, data-driven: each case of
 * tests/data/audit/<case>/ is evidence (the base case's evidence.json with
 * the case's patch.json merged in, RFC 7386) and the expected results of
 * every control, with the findings and items behind each result other than
 * pass.  Also: every control fails in some case (none passes by
 * construction), the mapping file covers each control and each framework
 * requirement the issue names, evidence survives its JSON round trip, and
 * the renderers escape what they print.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"
#include "testutil.h"
#include "util.h"

static json_t *load_json(const char *path)
{
    json_error_t e;
    json_t *j = json_load_file(path, 0, &e);

    if (j == NULL)
        fail_msg("%s: %s (line %d)", path, e.text, e.line);
    return j;
}

/* RFC 7386 JSON merge patch: objects merge, null removes, anything else replaces. */
static void merge_patch(json_t *target, json_t *patch)
{
    const char *key;
    json_t *v;

    json_object_foreach(patch, key, v)
    {
        json_t *t = json_object_get(target, key);
        if (json_is_null(v))
            json_object_del(target, key);
        else if (json_is_object(v) && json_is_object(t))
            merge_patch(t, v);
        else
            json_object_set(target, key, v);
    }
}

/* the base evidence with the case's patch (cwd is the case's directory) */
static void case_evidence(struct dbssl_audit_evidence *ev)
{
    json_t *j =
        load_json(access("evidence.json", R_OK) == 0 ? "evidence.json" : "../base/evidence.json");
    struct dbssl_error e;

    if (access("patch.json", R_OK) == 0) {
        json_t *p = load_json("patch.json");
        merge_patch(j, p);
        json_decref(p);
    }
    dbssl_error_clear(&e);
    if (dbssl_audit_evidence_from_json(j, ev, &e) != 0)
        fail_msg("evidence: %s", e.message);
    json_decref(j);
}

/* Controls that failed in some case so far, by index. */
static bool failed_somewhere[64];

static char *run_case(const char *name)
{
    struct dbssl_audit_evidence ev;
    struct dbssl_audit_report r;
    struct dbssl_error e;
    struct strbuf sb;

    (void)name;
    case_evidence(&ev);
    dbssl_error_clear(&e);
    if (dbssl_audit_evaluate(&ev, &r, &e) != 0)
        fail_msg("evaluate: %s", e.message);
    strbuf_init(&sb);
    for (size_t i = 0; i < r.n; i++) {
        const struct dbssl_audit_outcome *o = &r.v[i];
        if (o->result == DBSSL_AUDIT_FAIL)
            failed_somewhere[i] = true;
        strbuf_printf(&sb, "%s %s%s\n", o->control->id, dbssl_audit_result_name(o->result),
                      o->development_only ? " (development only)" : "");
        for (size_t k = 0; o->result != DBSSL_AUDIT_PASS && k < o->n_findings; k++) {
            const struct dbssl_audit_finding *f = &o->findings[k];
            strbuf_printf(&sb, "  %s%s: %s\n", dbssl_audit_result_name(f->severity),
                          f->development_only ? " (development only)" : "", f->message);
            for (size_t m = 0; m < f->n_items; m++) {
                if (f->items[m].line_number)
                    strbuf_printf(&sb, "    line %d: ", f->items[m].line_number);
                else
                    strbuf_append(&sb, "    ");
                strbuf_printf(&sb, "%s%s%s\n", f->items[m].name, f->items[m].why[0] ? ": " : "",
                              f->items[m].why);
            }
        }
    }
    strbuf_printf(&sb, "result %s\n", dbssl_audit_failed(&r) ? "fail" : "pass");
    dbssl_audit_report_free(&r);
    dbssl_audit_evidence_free(&ev);
    return strbuf_take(&sb);
}

static void test_cases(void **state)
{
    size_t n;
    const struct dbssl_audit_control *c = dbssl_audit_controls(&n);

    (void)state;
    assert_true(n <= sizeof(failed_somewhere) / sizeof(failed_somewhere[0]));
    tu_data_cases("audit", run_case, 20);
    /* a control that no evidence can fail would be a stub called done */
    for (size_t i = 0; i < n; i++)
        if (!failed_somewhere[i])
            fail_msg("no case makes control %s fail", c[i].id);
}

static void test_mapping_covers(void **state)
{
    /* what the issue asks the report to evidence: (framework, reference) */
    static const char *const required[][2] = {
        {"Guide", "Best practice 1"},
        {"Guide", "Best practice 2"},
        {"Guide", "Best practice 3"},
        {"Guide", "Best practice 4"},
        {"Guide", "Best practice 5"},
        {"Guide", "Best practice 6"},
        {"Guide", "Best practice 7"},
        {"Guide", "Best practice 8"},
        {"GDPR", "Art. 32(1)(a)"},
        {"GDPR", "Art. 32(1)(b)"},
        {"GDPR", "Art. 32(1)(d)"},
        {"DORA", "Art. 9(1)"},
        {"DORA", "Art. 9(3)(a)"},
        {"DORA", "Art. 9(4)(d)"},
        {"DORA RTS", "Art. 6(2)(a)"},
        {"DORA RTS", "Art. 7(4)"},
        {"DORA RTS", "Art. 7(5)"},
        {"PCI DSS", "4.2.1"},
        {"PCI DSS", "4.2.1.1"},
        {"CIS", "6.8"},
        {"CIS", "6.9"},
        {"CIS", "6.10"},
    };
    struct dbssl_audit_mappings m;
    struct dbssl_error e;
    size_t n;
    const struct dbssl_audit_control *c = dbssl_audit_controls(&n);

    (void)state;
    dbssl_error_clear(&e);
    assert_int_equal(dbssl_audit_mappings_load(NULL, &m, &e), 0);
    for (size_t i = 0; i < n; i++) {
        size_t found = 0;
        for (size_t k = 0; k < m.n; k++)
            found += strcmp(m.v[k].control, c[i].id) == 0;
        if (found == 0)
            fail_msg("control %s has no line in docs/controls.tsv", c[i].id);
    }
    for (size_t k = 0; k < m.n; k++) {
        bool known = false;
        for (size_t i = 0; i < n; i++)
            known |= strcmp(m.v[k].control, c[i].id) == 0;
        if (!known)
            fail_msg("docs/controls.tsv names an unknown control \"%s\"", m.v[k].control);
        if (m.v[k].url[0] != '\0' && strncmp(m.v[k].url, "https://", 8) != 0)
            fail_msg("docs/controls.tsv: \"%s\" is not an https URL", m.v[k].url);
    }
    for (size_t r = 0; r < sizeof(required) / sizeof(required[0]); r++) {
        bool found = false;
        for (size_t k = 0; k < m.n; k++)
            found |= strcmp(m.v[k].framework, required[r][0]) == 0 &&
                     strcmp(m.v[k].reference, required[r][1]) == 0;
        if (!found)
            fail_msg("no control evidences %s %s", required[r][0], required[r][1]);
    }
    dbssl_audit_mappings_free(&m);
}

static void test_mapping_rejects(void **state)
{
    static const char *const bad[] = {
        "control\tframework\treference\trequirement\tdocument\n",
        "control\tframework\treference\trequirement\tdocument\turl\nx\ty\tz\tw\t\t\n",
        "control\tframework\treference\trequirement\tdocument\turl\nx\ty\tz\tw\tv\tu\textra\n",
        "# only a comment\n",
        "framework\tcontrol\treference\trequirement\tdocument\turl\nx\ty\tz\tw\tv\t\n",
    };
    struct dbssl_audit_mappings m;
    struct dbssl_error e;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        dbssl_error_clear(&e);
        assert_int_equal(dbssl_audit_mappings_load(bad[i], &m, &e), -1);
        assert_non_null(strstr(e.message, "docs/controls.tsv line"));
        assert_null(m.v);
    }
    dbssl_error_clear(&e);
    assert_int_equal(dbssl_audit_mappings_load("control\tframework\treference\trequirement\t"
                                               "document\turl\n# c\nx\ty\tz\tw\tv\t\n",
                                               &m, &e),
                     0);
    assert_int_equal(m.n, 1);
    assert_string_equal(m.v[0].url, "");
    dbssl_audit_mappings_free(&m);
}

static void enter_base(void)
{
    char dir[4096];

    snprintf(dir, sizeof(dir), "%s/audit/base", getenv("DBSSL_TEST_DATA"));
    assert_int_equal(chdir(dir), 0);
}

static void test_evidence_roundtrip(void **state)
{
    struct dbssl_audit_evidence a, b;
    struct dbssl_error e;
    json_t *ja, *jb;

    (void)state;
    enter_base();
    case_evidence(&a);
    ja = dbssl_audit_evidence_to_json(&a, NULL);
    assert_non_null(ja);
    dbssl_error_clear(&e);
    assert_int_equal(dbssl_audit_evidence_from_json(ja, &b, &e), 0);
    jb = dbssl_audit_evidence_to_json(&b, NULL);
    assert_true(json_equal(ja, jb));
    /* a field missing from hand-written evidence is an error naming it, never a false */
    json_object_del(json_object_get(ja, "session"), "connected");
    dbssl_audit_evidence_free(&b);
    dbssl_error_clear(&e);
    assert_int_equal(dbssl_audit_evidence_from_json(ja, &b, &e), -1);
    assert_string_equal(e.message, "audit evidence: field \"connected\" is missing");
    json_decref(ja);
    json_decref(jb);
    dbssl_audit_evidence_free(&a);
}

static void test_render_escapes(void **state)
{
    struct dbssl_audit_evidence ev;
    struct dbssl_audit_report r;
    struct dbssl_error e;
    char *html, *md, *js;

    (void)state;
    enter_base();
    case_evidence(&ev);
    /* text from outside the report's control: a certificate subject, a pg_hba.conf line */
    snprintf(ev.certs[0].subject, sizeof(ev.certs[0].subject), "CN=<script>x</script>|a&b");
    snprintf(ev.server.hba[1].line, sizeof(ev.server.hba[1].line), "host all all <b>|x");
    dbssl_error_clear(&e);
    assert_int_equal(dbssl_audit_evaluate(&ev, &r, &e), 0);
    html = dbssl_audit_render_html(&r);
    md = dbssl_audit_render_markdown(&r);
    js = dbssl_audit_render_json(&r);
    assert_non_null(html);
    assert_null(strstr(html, "<script>"));
    assert_null(strstr(html, "<b>"));
    assert_non_null(strstr(html, "CN=&#60;script&#62;x&#60;/script&#62;|a&#38;b"));
    assert_null(strstr(md, "<script>"));
    assert_non_null(strstr(md, "CN=&lt;script>x&lt;/script>\\|a&b"));
    assert_non_null(strstr(js, "\"CN=<script>x</script>|a&b\""));
    assert_non_null(strstr(md, "| `client.tls_required` | pass |"));
    free(html);
    free(md);
    free(js);
    dbssl_audit_report_free(&r);
    dbssl_audit_evidence_free(&ev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),           cmocka_unit_test(test_mapping_covers),
        cmocka_unit_test(test_mapping_rejects), cmocka_unit_test(test_evidence_roundtrip),
        cmocka_unit_test(test_render_escapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
