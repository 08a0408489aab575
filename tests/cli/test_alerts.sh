#!/usr/bin/env bash
# The example alert rules (one service's, docs/alerts.yml, and a fleet's
# probes', docs/fleet-alerts.yml) load in Prometheus and fire when they should.
. "${DBSSL_SRC:?}/tests/lib.sh"
t_init
PROMTOOL=$(prometheus_tool promtool) || t_done
run_split "$PROMTOOL" check rules "$DBSSL_SRC/docs/alerts.yml"; assert_rc 0 "promtool check rules"
assert_contains "$OUT" "SUCCESS: 7 rules found"
run_split "$PROMTOOL" test rules "$DBSSL_SRC/docs/alerts_test.yml"; assert_rc 0 "promtool test rules"
run_split "$PROMTOOL" check rules "$DBSSL_SRC/docs/fleet-alerts.yml"; assert_rc 0 "promtool check rules (fleet)"
assert_contains "$OUT" "SUCCESS: 7 rules found"
run_split "$PROMTOOL" test rules "$DBSSL_SRC/docs/fleet-alerts_test.yml"
assert_rc 0 "promtool test rules (fleet)"
t_done
