#!/usr/bin/env bash
# Size and render time of the HTML report of a large synthetic image, in headless Chromium:
#   scripts/bench-html.sh [FILES] [RUNS]     (default 225000 files, 3 runs)
# Prints the page's size, the time `analyze --format html` takes beside `--format json` of the
# same image (a ratio in one run), and the browser's time from navigation to the end of the
# load event (parsing, the treemap script and its layout), the median of RUNS fresh loads.
# Needs Debian's chromium and chromium-driver, and python3 (it drives chromedriver).
set -euo pipefail
cd "$(dirname "$0")/.."
files=${1:-225000}
runs=${2:-3}
work=$(mktemp -d)
trap 'kill "${driver_pid:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT

cargo build --release --quiet --bin layersift --example synth
ls=target/release/layersift
target/release/examples/synth "$work/synth.docker.tar" "$files" docker >/dev/null
image="docker-archive:$work/synth.docker.tar"

t() { local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); echo "$e - $s" | bc; }
json_s=$(t "$ls" analyze --no-cache "$image" -f json -o "$work/r.json")
html_s=$(t "$ls" analyze --no-cache "$image" -f html -o "$work/r.html")
size=$(stat -c %s "$work/r.html")
json_size=$(stat -c %s "$work/r.json")
printf 'image: %s files; JSON report %s bytes\n' "$files" "$json_size"
printf 'page size: %s bytes (%.2f MB; limit 2 MB)\n' "$size" "$(echo "$size / 1000000" | bc -l)"
printf 'analyze --format json %.2f s, --format html %.2f s (%.2fx)\n' \
  "$json_s" "$html_s" "$(echo "$html_s / $json_s" | bc -l)"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
chromedriver --port="$port" >/dev/null 2>&1 &
driver_pid=$!
python3 - "$port" "$work/r.html" "$runs" "$work" <<'PY'
import json, statistics, sys, time, urllib.request
port, page, runs, work = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
base = f"http://127.0.0.1:{port}"
def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.load(r)["value"]
for _ in range(100):
    try:
        call("GET", "/status"); break
    except OSError:
        time.sleep(0.1)
times = []
for n in range(runs):
    s = call("POST", "/session", {"capabilities": {"alwaysMatch": {"browserName": "chrome",
        "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run",
            "--window-size=1280,1800", f"--user-data-dir={work}/profile{n}"]}}}})
    sid = s["sessionId"]
    call("POST", f"/session/{sid}/url", {"url": "file://" + page})
    ms = call("POST", f"/session/{sid}/execute/sync", {"script":
        "const t = performance.getEntriesByType('navigation')[0];"
        "return [t.loadEventEnd - t.startTime, document.querySelectorAll('.cell').length];",
        "args": []})
    times.append(ms[0])
    cells = ms[1]
    call("DELETE", f"/session/{sid}")
print(f"render (navigation to load end, median of {runs}): {statistics.median(times):.0f} ms "
      f"(runs: {', '.join(f'{t:.0f}' for t in times)}); {cells} treemap cells drawn; limit 1000 ms")
PY
