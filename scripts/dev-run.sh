#!/usr/bin/env bash
# `make run`: the development path of the guide.  For now it validates the
# settings in ./.env; the dev database and the health server come next.
set -euo pipefail
DBSSL=${1:-build/dbssl}
exec "$DBSSL" validate
