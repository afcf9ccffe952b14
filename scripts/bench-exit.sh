#!/usr/bin/env bash
# How long quitting takes: the embedded dashboard is started in a private tmux server, `q` is
# pressed once its API shows ok, and the time until the process is gone is measured; prints
# each run and the median. Usage: scripts/bench-exit.sh [RUNS] (default 5; needs tmux and a
# release build: cargo build --release).
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
bin="$PWD/target/release/gameday"
socket="gameday-bench-exit-$$"
home="$(mktemp -d)"
trap 'tmux -L "$socket" kill-server 2>/dev/null || true; rm -rf "$home"' EXIT
times=()
for run in $(seq "$runs"); do
  tmux -L "$socket" -f /dev/null new-session -d -x 160 -y 45 -s gd \
    -e "HOME=$home" -e "GAMEDAY_DATA_DIR=$home/data" "$bin 2>/dev/null; date +%s.%N > $home/ended"
  for _ in $(seq 200); do
    tmux -L "$socket" capture-pane -p -t gd 2>/dev/null | grep -q "api ok" && break
    sleep 0.1
  done
  rm -f "$home/ended"
  start="$(date +%s.%N)"
  tmux -L "$socket" send-keys -t gd q
  # The pane's shell writes down when the dashboard ended.
  for _ in $(seq 1000); do [ -s "$home/ended" ] && break; sleep 0.01; done
  end="$(cat "$home/ended")"
  took="$(echo "$end - $start" | bc)"
  echo "run $run: quit took ${took} s"
  times+=("$took")
  tmux -L "$socket" kill-server 2>/dev/null || true
done
printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "median quit: %.3f s over %d runs\n", m, NR}'
