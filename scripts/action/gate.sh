#!/usr/bin/env bash
# Gates the build: `layersift check` on the saved report, against the base branch's report
# when there is one (growth limits in the rules file then apply). Failed rules become
# annotations and a table in the job summary; the exit code is check's (1: a rule failed).
set -euo pipefail
args=("${LAYERSIFT_REPORT:?}" --format github)
if [ -n "${LAYERSIFT_CONFIG:-}" ]; then args+=(--config "$LAYERSIFT_CONFIG"); fi
if [ -n "${LAYERSIFT_BASELINE:-}" ] && [ -f "$LAYERSIFT_BASELINE" ]; then
  args+=(--baseline "$LAYERSIFT_BASELINE")
fi
status=0
layersift check "${args[@]}" || status=$?
if [ "$status" -eq 0 ]; then outcome=passed; else outcome=failed; fi
echo "outcome=$outcome" >> "${GITHUB_OUTPUT:-/dev/null}"
exit "$status"
