#!/usr/bin/env bash
# Writes the size change against the base branch's report (or, on the first run, this
# image's report) to the job summary, and posts it as one sticky pull-request comment,
# updated in place on every push. Pull requests from forks get the summary only: their
# token cannot comment.
#
# Reads GitHub's variables: GITHUB_EVENT_PATH, GITHUB_REPOSITORY, GITHUB_API_URL,
# GITHUB_TOKEN, GITHUB_STEP_SUMMARY; and LAYERSIFT_REPORT, LAYERSIFT_BASELINE (may be
# empty), LAYERSIFT_IMAGE, LAYERSIFT_BASE, LAYERSIFT_MAX_CHARS.
set -euo pipefail
marker='<!-- layersift:sticky -->'
max="${LAYERSIFT_MAX_CHARS:-60000}"
body=$(mktemp)
trap 'rm -f "$body" "$body.md"' EXIT

if [ -n "${LAYERSIFT_BASELINE:-}" ] && [ -f "$LAYERSIFT_BASELINE" ]; then
  layersift diff "$LAYERSIFT_BASELINE" "${LAYERSIFT_REPORT:?}" --format markdown \
    --max-chars "$((max - 100))" -o "$body.md"
else
  base=()
  if [ -n "${LAYERSIFT_BASE:-}" ]; then base=(--base "$LAYERSIFT_BASE"); fi
  layersift analyze "${LAYERSIFT_IMAGE:?}" "${base[@]}" --format markdown \
    --max-chars "$((max - 100))" -o "$body.md"
fi
{ echo "$marker"; cat "$body.md"; } > "$body"

if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  cat "$body.md" >> "$GITHUB_STEP_SUMMARY"
fi

event="${GITHUB_EVENT_PATH:?}"
pr=$(jq -r '.pull_request.number // empty' "$event")
head_repo=$(jq -r '.pull_request.head.repo.full_name // empty' "$event")
if [ -z "$pr" ]; then
  echo "not a pull request: summary only"
  exit 0
fi
if [ "$head_repo" != "${GITHUB_REPOSITORY:?}" ]; then
  echo "pull request from the fork '$head_repo': its token cannot comment; summary only"
  exit 0
fi

api="${GITHUB_API_URL:-https://api.github.com}/repos/$GITHUB_REPOSITORY"
call() {
  curl -fsS -H "Authorization: Bearer ${GITHUB_TOKEN:?}" \
    -H "Accept: application/vnd.github+json" -H "X-GitHub-Api-Version: 2022-11-28" \
    -H "Expect:" "$@"
}
existing=""
for page in 1 2 3 4 5 6 7 8 9 10; do
  comments=$(call "$api/issues/$pr/comments?per_page=100&page=$page")
  existing=$(echo "$comments" | jq -r --arg m "$marker" \
    '[.[] | select(.body | startswith($m))][0].id // empty')
  if [ -n "$existing" ] || [ "$(echo "$comments" | jq length)" -lt 100 ]; then break; fi
done
payload=$(jq -Rs '{body: .}' < "$body")
if [ -n "$existing" ]; then
  call -X PATCH "$api/issues/comments/$existing" -d "$payload" > /dev/null
  echo "updated comment $existing on pull request #$pr"
else
  call -X POST "$api/issues/$pr/comments" -d "$payload" > /dev/null
  echo "commented on pull request #$pr"
fi
