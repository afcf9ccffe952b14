#!/usr/bin/env bash
# Installs the test services if they are missing (Debian packages: Prometheus, PostgreSQL,
# podman with runc and busybox-static for the Docker API, tmux, curl, openssl (https tests),
# librsvg2-bin (rsvg-convert renders the reports' charts), chromium (a headless browser opens the
# HTML report), python3-venv; and, from
# PyPI, Flask and gunicorn for the workshop-shaped FinCore in scripts/bench/), then runs every
# check and test: format, clippy, unit and integration tests.
# Integration tests start their own private servers on free loopback ports and stop them by PID.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
command -v tmux >/dev/null 2>&1 || missing+=(tmux)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v rsvg-convert >/dev/null 2>&1 || missing+=(librsvg2-bin)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v podman >/dev/null 2>&1 || missing+=(podman)
command -v runc >/dev/null 2>&1 || [ -x /usr/sbin/runc ] || missing+=(runc)
dpkg -s busybox-static >/dev/null 2>&1 || missing+=(busybox-static)
python3 -m venv --help >/dev/null 2>&1 && python3 -c 'import ensurepip' 2>/dev/null || missing+=(python3-venv)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
if ((${#missing[@]})); then
  echo "test.sh: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The workshop-shaped service (gunicorn, 2 workers, per-worker failure state) that the
# dashboard is tested against; tests find it at target/bench-venv, as the benchmark does.
venv=target/bench-venv
requirements=scripts/bench/requirements.txt
want="$(sha256sum "$requirements" | cut -d' ' -f1)"
if [ ! -x "$venv/bin/gunicorn" ] || [ "$(cat "$venv/.requirements.sha256" 2>/dev/null)" != "$want" ]; then
  echo "test.sh: creating the Python venv in $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$requirements"
  echo "$want" >"$venv/.requirements.sha256"
fi

cargo fmt --all -- --check
cargo clippy --release --all-targets -- -D warnings
# One release build serves the binary under test and the tests themselves.
cargo test --release "$@"
