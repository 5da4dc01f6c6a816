#!/usr/bin/env bash
# Installs layersift for the GitHub Action: from the action's own checkout (the version the
# workflow pinned), from crates.io, or not at all.
set -euo pipefail
case "${LAYERSIFT_INSTALL:-source}" in
  none) ;;
  crates) cargo install --locked layersift ;;
  source) cargo install --locked --path "${GITHUB_ACTION_PATH:?}" ;;
  *) echo "::error title=layersift::install must be source, crates or none, not '${LAYERSIFT_INSTALL}'"; exit 2 ;;
esac
layersift --version
