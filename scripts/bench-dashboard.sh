#!/usr/bin/env bash
# The dashboard's costs beside bottom's (btm), as figures from one run. Everything runs on
# loopback and stops by itself.
#   1. Frame render time (criterion, thread CPU time): a full 200x50 frame with 15 minutes of
#      history in every series, in the dark and projector themes, against what ratatui itself
#      needs to fill and diff a frame of that size. Target: at most 2x.
#   2. Idle: `gameday --load off` (1 s polls) and `btm --rate 1000`, each in its own 200x50
#      tmux pane during the same seconds: CPU share of one core and resident memory. Targets:
#      the dashboard's CPU at most 0.5x btm's, its resident memory at most btm's. Only the
#      dashboard's own process counts, not its sandbox child (shown apart). Resident memory is
#      the median of VmRSS sampled every second; the anonymous part (heap, stacks, buffers;
#      the rest is mapped code and data of the executable and libraries) and the proportional
#      set size are read at the end.
#   3. For reference, the dashboard with the embedded sandbox's default load.
# Settings:
#   BENCH_IDLE_SECONDS  how long each idle measurement lasts (default 60)
#   BENCH_WITH_LOAD=0   leaves out the loaded run
#   BTM                 the btm binary (default: btm on PATH, else <target>/tools/bin/btm, else
#                       `cargo install bottom --locked --root <target>/tools`, which is slow)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${BENCH_IDLE_SECONDS:-60}"
target="${CARGO_TARGET_DIR:-target}"
log() { echo "bench-dashboard: $*" >&2; }
command -v tmux >/dev/null || { log "tmux is needed (apt-get install tmux)"; exit 1; }
command -v python3 >/dev/null || { log "python3 is needed"; exit 1; }

if [ -z "${BTM:-}" ]; then
  if command -v btm >/dev/null 2>&1; then
    BTM="$(command -v btm)"
  else
    BTM="$target/tools/bin/btm"
    if [ ! -x "$BTM" ]; then
      log "btm is missing: cargo install bottom --locked --root $target/tools (takes a while)"
      cargo install bottom --locked --root "$target/tools" >&2
    fi
  fi
fi
[ -x "$BTM" ] || { log "no btm at $BTM"; exit 1; }
BTM="$(cd "$(dirname "$BTM")" && pwd)/$(basename "$BTM")"

cargo build --release --quiet --bin gameday
gameday="$(cd "$target/release" && pwd)/gameday"

echo "## Frame render time (criterion, thread CPU time, TestBackend 200x50, 15 min of history)"
echo
cargo bench --quiet --bench render -- --noplot >/dev/null 2>&1
python3 - "$target/criterion" <<'EOF'
import json, sys
from pathlib import Path
root = Path(sys.argv[1])
def median(name):
    estimates = json.loads((root / name / "new" / "estimates.json").read_text())
    return estimates["median"]["point_estimate"] / 1000.0  # microseconds
floor = median("empty frame 200x50 (fill and diff only)")
print("| frame | median | × floor (target ≤ 2) |")
print("|---|---:|---:|")
for theme in ("dark", "projector"):
    full = median(f"full frame 200x50 {theme}")
    print(f"| full, {theme} | {full:.1f} µs | {full / floor:.2f} |")
print(f"| ratatui fill and diff (floor) | {floor:.1f} µs | 1.00 |")
EOF

ticks_per_second=$(getconf CLK_TCK)
cpu_ticks() { # utime + stime of a process and its finished threads
  awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
# Proportional set size: pages shared with other processes (the sandbox child runs the same
# executable) count by their share.
pss_kib() { awk '/^Pss:/ { print $2 }' "/proc/$1/smaps_rollup"; }
anon_kib() { awk '/^Anonymous:/ { print $2 }' "/proc/$1/smaps_rollup"; }

socket="gameday-bench-$$"
home=$(mktemp -d)
samples=$(mktemp)
cleanup() { tmux -L "$socket" kill-server 2>/dev/null || true; rm -rf "$home" "$samples"; }
trap cleanup EXIT

start() { # session, command: runs it in its own 200x50 pane; prints the pane's PID
  tmux -L "$socket" -f /dev/null new-session -d -x 200 -y 50 -s "$1" \
    -e "HOME=$home" -e "XDG_CONFIG_HOME=$home/config" -e "GAMEDAY_DATA_DIR=$home/data" "exec $2"
  tmux -L "$socket" display-message -p -t "$1" '#{pane_pid}'
}

# Idle CPU and memory of PIDs over the same seconds, one line each:
# label cpu_percent median_rss_kib pss_kib_at_the_end anonymous_kib_at_the_end (RSS sampled
# every second).
measure() { # label=pid ...
  local pair start_ticks=() end_ticks=() i=0
  : >"$samples"
  for pair in "$@"; do start_ticks+=("$(cpu_ticks "${pair#*=}")"); done
  for _ in $(seq 1 "$seconds"); do
    sleep 1
    for pair in "$@"; do echo "${pair%%=*} $(rss_kib "${pair#*=}")" >>"$samples"; done
  done
  for pair in "$@"; do end_ticks+=("$(cpu_ticks "${pair#*=}")"); done
  for pair in "$@"; do
    local label="${pair%%=*}"
    local rss
    rss=$(awk -v l="$label" '$1 == l { print $2 }' "$samples" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
    awk -v l="$label" -v a="${start_ticks[$i]}" -v b="${end_ticks[$i]}" -v hz="$ticks_per_second" \
      -v s="$seconds" -v r="$rss" -v p="$(pss_kib "${pair#*=}")" -v n="$(anon_kib "${pair#*=}")" \
      'BEGIN { printf "%s %.3f %d %d %d\n", l, (b - a) / hz / s * 100, r, p, n }'
    i=$((i + 1))
  done
}

echo
echo "## Idle beside btm: no input, 1 s polls, 200x50, the same ${seconds} s"
echo
dashboard=$(start dashboard "$gameday --load off")
btm=$(start btm "$BTM --rate 1000")
sleep 10 # start-up, first polls, history begins
sandbox=$(pgrep -P "$dashboard" -f "gameday sandbox" | head -n1 || true)
figures=$(measure "dashboard=$dashboard" "btm=$btm" ${sandbox:+"sandbox=$sandbox"})
tmux -L "$socket" send-keys -t dashboard q
tmux -L "$socket" send-keys -t btm q
sleep 2
tmux -L "$socket" kill-server 2>/dev/null || true
echo "$figures" | awk '
  { cpu[$1] = $2; rss[$1] = $3; pss[$1] = $4; anon[$1] = $5 }
  END {
    print "| process | CPU (share of one core) | resident memory (median) | of it anonymous | proportional (PSS) |"
    print "|---|---:|---:|---:|---:|"
    row = "| %s | %.2f %% | %.1f MB | %.1f MB | %.1f MB |\n"
    printf row, "gameday --load off", cpu["dashboard"], rss["dashboard"] / 1024, anon["dashboard"] / 1024, pss["dashboard"] / 1024
    printf row, "btm --rate 1000", cpu["btm"], rss["btm"] / 1024, anon["btm"] / 1024, pss["btm"] / 1024
    if ("sandbox" in cpu) printf row, "(its sandbox child)", cpu["sandbox"], rss["sandbox"] / 1024, anon["sandbox"] / 1024, pss["sandbox"] / 1024
    print ""
    if (cpu["btm"] > 0) printf "Same-run ratios, gameday / btm: CPU %.2fx (target <= 0.5), ", cpu["dashboard"] / cpu["btm"]
    else printf "Same-run ratios, gameday / btm: CPU n/a (btm used no measurable CPU), "
    printf "resident memory %.2fx (target <= 1), anonymous %.2fx, PSS %.2fx\n", rss["dashboard"] / rss["btm"], anon["dashboard"] / anon["btm"], pss["dashboard"] / pss["btm"]
  }'

if [ "${BENCH_WITH_LOAD:-1}" != 0 ]; then
  echo
  echo "## The dashboard with the embedded sandbox's default load (20 req/s), ${seconds} s"
  echo
  dashboard=$(start loaded "$gameday")
  sleep 10
  sandbox=$(pgrep -P "$dashboard" -f "gameday sandbox" | head -n1 || true)
  figures=$(measure "dashboard=$dashboard" ${sandbox:+"sandbox=$sandbox"})
  tmux -L "$socket" send-keys -t loaded q
  sleep 2
  echo "$figures" | awk '
    BEGIN { print "| process | CPU (share of one core) | resident memory (median) | of it anonymous | proportional (PSS) |"; print "|---|---:|---:|---:|---:|" }
    { printf "| %s | %.2f %% | %.1f MB | %.1f MB | %.1f MB |\n", ($1 == "dashboard" ? "gameday" : "its sandbox child"), $2, $3 / 1024, $5 / 1024, $4 / 1024 }'
fi
