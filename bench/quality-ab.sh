#!/usr/bin/env bash
# The bad-network table, BEFORE and AFTER side by side: for each scenario, a call on the BEFORE build
# and one on the AFTER build back to back (so load from other work on the machine hits both alike),
# ROUNDS times. Results: test-results/quality-<build>-r<round>.{json,md}.
#   bench/quality-ab.sh BEFORE_WEB_DIR BEFORE_SERVER_MAIN AFTER_WEB_DIR AFTER_SERVER_MAIN [scenario ids…]
# A build's web dir is a built apps/web/dist; its server main a built packages/server/dist/main.js kept
# where its imports resolve (e.g. packages/server/node_modules/.<name>/dist/main.js).
set -euo pipefail
cd "$(dirname "$0")/.."
before_web=$1 before_main=$2 after_web=$3 after_main=$4
shift 4
ids=("$@")
[ ${#ids[@]} -gt 0 ] || ids=(clean rtt100 rtt300 loss2 loss10 burst20 cap500 cap150 capdrop asym100 asym)
rounds=${ROUNDS:-1}
for r in $(seq 1 "$rounds"); do
  for id in "${ids[@]}"; do
    for build in before after; do
      if [ "$build" = before ]; then web=$before_web main=$before_main assert=0; else web=$after_web main=$after_main assert=${ASSERT_AFTER:-0}; fi
      DUET_QUALITY=1 QUALITY_SCENARIOS=$id QUALITY_BUILD="$build-r$r" QUALITY_ASSERT=$assert QUALITY_WEB_DIR=$web QUALITY_SERVER_MAIN=$main \
        npx vitest run --project quality 2>&1 | sed 's/\x1b\[[0-9;]*m//g' | grep -E '^\| |✓|×|FAIL|Error' || true
    done
  done
done
