#!/usr/bin/env python3
"""How soon the dashboard shows what happens, as a participant would see it: the embedded
default started in a 200x50 tmux pane, the screen read every 50 ms.

  1. first figure: from launching `gameday` to the first p95 on screen (target: within 1 s);
  2. time to visible: from pressing `l` (2000 ms latency) to p95 on screen above 1 s and above
     2 s (target: within 3 s);
  3. the observer's share: `gameday --api <sandbox> --load off` watching a sandbox nobody else
     uses, the instrumented requests it makes per minute (target: at most one per 5 s).

Everything runs on loopback and stops by itself. Usage: scripts/bench-visibility.py [RUNS]
(default 3), after `cargo build --release`; GAMEDAY overrides the binary.
"""
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GAMEDAY = os.environ.get("GAMEDAY") or os.path.join(
    os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "gameday")
P95 = re.compile(r"p95 (\d+(?:\.\d+)?) (ms|s)\b")
SOCKET = f"gameday-visibility-{os.getpid()}"


def tmux(*args):
    return subprocess.run(["tmux", "-L", SOCKET, "-f", "/dev/null", *args],
                          capture_output=True, text=True, check=False).stdout


def p95_on_screen():
    match = P95.search(tmux("capture-pane", "-p", "-t", "g"))
    if not match:
        return None
    value = float(match.group(1))
    return value / 1000.0 if match.group(2) == "ms" else value


def wait_for(check, timeout):
    """Seconds until check() holds, reading every 50 ms; None on timeout."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if check():
            return time.monotonic() - started
        time.sleep(0.05)
    return None


def one_run(home):
    env = ["-e", f"HOME={home}", "-e", f"XDG_CONFIG_HOME={home}/config",
           "-e", f"GAMEDAY_DATA_DIR={home}/data"]
    launched = time.monotonic()
    tmux("new-session", "-d", "-x", "200", "-y", "50", "-s", "g", *env, f"exec {GAMEDAY}")
    try:
        first = wait_for(lambda: p95_on_screen() is not None, 10)
        first = None if first is None else time.monotonic() - launched - 0.0
        # A participant's baseline before injecting: the window fills with healthy traffic.
        time.sleep(16)
        tmux("send-keys", "-t", "g", "l")
        pressed = time.monotonic()
        above_1 = wait_for(lambda: (p95_on_screen() or 0) > 1.0, 15)
        above_1 = None if above_1 is None else time.monotonic() - pressed
        above_2 = wait_for(lambda: (p95_on_screen() or 0) > 2.0, 15)
        above_2 = None if above_2 is None else time.monotonic() - pressed
        return first, above_1, above_2
    finally:
        tmux("send-keys", "-t", "g", "q")
        time.sleep(0.5)
        tmux("send-keys", "-t", "g", "y")
        wait_for(lambda: "g" not in tmux("list-sessions", "-F", "#{session_name}").split(), 10)
        tmux("kill-server")


def instrumented_requests(url):
    text = urllib.request.urlopen(f"{url}/metrics", timeout=5).read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("fintech_requests_total{"))


def observer_share(home, seconds=60):
    sandbox = subprocess.Popen(
        [GAMEDAY, "sandbox", "--listen", "127.0.0.1:0",
         "--database-url", f"sqlite://{home}/observer.db?mode=rwc"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = sandbox.stdout.readline().strip().removeprefix("listening on ")
        before = instrumented_requests(url)
        env = ["-e", f"HOME={home}", "-e", f"GAMEDAY_DATA_DIR={home}/data"]
        tmux("new-session", "-d", "-x", "200", "-y", "50", "-s", "g", *env,
             f"exec {GAMEDAY} --api {url} --load off --poll-interval 1s")
        time.sleep(seconds)
        tmux("kill-server")
        return (instrumented_requests(url) - before) / seconds * 60.0
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)


def describe(values):
    got = [v for v in values if v is not None]
    if not got:
        return "never"
    text = f"median {statistics.median(got):.2f} s (runs: {', '.join(f'{v:.2f}' for v in got)})"
    missed = len(values) - len(got)
    return text + (f", {missed} never" if missed else "")


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    if not shutil.which("tmux"):
        sys.exit("tmux is needed (apt-get install tmux)")
    home = tempfile.mkdtemp(prefix="gameday-visibility-")
    try:
        results = [one_run(home) for _ in range(runs)]
        print("| measure | target | result |")
        print("|---|---|---|")
        print(f"| launch → first p95 on screen | ≤ 1 s | {describe([r[0] for r in results])} |")
        print(f"| `l` (2000 ms) → p95 > 1 s on screen | ≤ 3 s | {describe([r[1] for r in results])} |")
        print(f"| `l` (2000 ms) → p95 > 2 s on screen | — | {describe([r[2] for r in results])} |")
        per_minute = observer_share(home)
        print(f"| observer's instrumented requests, `--load off`, 1 s polls | ≤ 12/min | {per_minute:.1f}/min |")
    finally:
        tmux("kill-server")
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
