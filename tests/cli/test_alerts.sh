#!/usr/bin/env bash
# The example alert rules load in Prometheus and fire when they should.
. "$(dirname "$0")/assert.sh"
: "${DBSSL_SRC:?}"
run promtool check rules "$DBSSL_SRC/docs/alerts.yml"; expect_rc 0 "promtool check rules"
expect_out "SUCCESS: 5 rules found"
run promtool test rules "$DBSSL_SRC/docs/alerts_test.yml"; expect_rc 0 "promtool test rules"
finish
