#!/usr/bin/env bash
# The dashboard's costs, as figures: the time to render a full 200x50 frame (criterion), and
# the CPU the running dashboard uses when nobody touches it (polls every second), with the
# embedded sandbox's load off and on. Everything runs on loopback and stops by itself.
#   BENCH_IDLE_SECONDS  how long each idle measurement lasts (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${BENCH_IDLE_SECONDS:-60}"
command -v tmux >/dev/null || { echo "bench-dashboard: tmux is needed (apt-get install tmux)" >&2; exit 1; }

cargo build --release --quiet
echo "## Frame render time (criterion, TestBackend 200x50, 15 min of history in every series)"
cargo bench --quiet --bench render -- --noplot 2>/dev/null | grep -E "^full frame|time:" || true

ticks_per_second=$(getconf CLK_TCK)
cpu_seconds() { # utime + stime of a PID, in seconds
  awk -v hz="$ticks_per_second" '{ sub(/.*\) /, ""); print ($12 + $13) / hz }' "/proc/$1/stat"
}

socket="gameday-bench-$$"
home=$(mktemp -d)
cleanup() { tmux -L "$socket" kill-server 2>/dev/null || true; rm -rf "$home"; }
trap cleanup EXIT

measure() { # label, gameday arguments
  local label="$1"; shift
  tmux -L "$socket" -f /dev/null new-session -d -x 200 -y 50 -s bench \
    -e "HOME=$home" -e "XDG_CONFIG_HOME=$home/config" -e "GAMEDAY_DATA_DIR=$home/data" \
    "exec $PWD/target/release/gameday $*"
  local pid
  pid=$(tmux -L "$socket" display-message -p -t bench '#{pane_pid}')
  sleep 10 # start-up, first polls, history fills
  local child
  child=$(pgrep -P "$pid" -f "gameday sandbox" | head -n1 || true)
  local start_self start_child=0 end_self end_child=0
  start_self=$(cpu_seconds "$pid")
  [ -n "$child" ] && start_child=$(cpu_seconds "$child")
  sleep "$seconds"
  end_self=$(cpu_seconds "$pid")
  [ -n "$child" ] && end_child=$(cpu_seconds "$child")
  tmux -L "$socket" send-keys -t bench q
  sleep 2
  tmux -L "$socket" kill-server 2>/dev/null || true
  awk -v l="$label" -v s="$seconds" -v a="$start_self" -v b="$end_self" -v c="$start_child" -v d="$end_child" \
    'BEGIN { printf "| %s | %.2f %% | %.2f %% |\n", l, (b - a) / s * 100, (d - c) / s * 100 }'
}

echo
echo "## CPU while idle: no input, polls every second, ${seconds} s each (share of one core)"
echo "| run | dashboard process | sandbox child |"
echo "|---|---:|---:|"
measure "embedded, --load off" --load off
measure "embedded, default load (20 req/s)"
