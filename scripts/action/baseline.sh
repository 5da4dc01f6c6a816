#!/usr/bin/env bash
# Downloads report.json from the last successful run of this workflow on the pull
# request's base branch, and sets the `report` output to its path (empty when there is
# none yet: the first run on the base branch makes it).
set -euo pipefail
out="${LAYERSIFT_OUT:?}/baseline"
branch="${GITHUB_BASE_REF:?}"
workflow=$(echo "${GITHUB_WORKFLOW_REF:?}" | sed -E 's|^[^/]+/[^/]+/(.*)@.*$|\1|')
run_id=$(gh run list --repo "${GITHUB_REPOSITORY:?}" --workflow "$(basename "$workflow")" \
  --branch "$branch" --status success --limit 1 --json databaseId --jq '.[0].databaseId // empty' || true)
if [ -z "$run_id" ]; then
  echo "::notice title=layersift::no successful run on '$branch' yet; the comment shows this image only"
  echo "report=" >> "${GITHUB_OUTPUT:-/dev/null}"
  exit 0
fi
rm -rf "$out"
if gh run download "$run_id" --repo "$GITHUB_REPOSITORY" --name "${LAYERSIFT_ARTIFACT:?}" --dir "$out"; then
  echo "report=$out/report.json" >> "${GITHUB_OUTPUT:-/dev/null}"
else
  echo "::notice title=layersift::run $run_id on '$branch' kept no '$LAYERSIFT_ARTIFACT' artifact"
  echo "report=" >> "${GITHUB_OUTPUT:-/dev/null}"
fi
