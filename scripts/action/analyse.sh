#!/usr/bin/env bash
# Analyses the image once into report.json: the artifact, and the baseline of later runs
# on pull requests against this branch.
set -euo pipefail
out="${LAYERSIFT_OUT:?}"
mkdir -p "$out"
base=()
if [ -n "${LAYERSIFT_BASE:-}" ]; then base=(--base "$LAYERSIFT_BASE"); fi
layersift analyze "${LAYERSIFT_IMAGE:?}" "${base[@]}" --format json -o "$out/report.json"
echo "report=$out/report.json" >> "${GITHUB_OUTPUT:-/dev/null}"
