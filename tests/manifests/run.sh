#!/usr/bin/env bash
# Offline validation of k8s/ and dapr/: renders both overlays with kubectl's
# kustomize, validates every object against its schema and runs the
# cross-checks against spin.toml and runtime-config.toml.
#
#   tests/manifests/run.sh [pytest args]
#
# Installs its tools (requirements.txt, kubectl included) into
# target/manifests-venv the first time, and again only when requirements.txt
# changes; later runs start straight away.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
venv="$root/target/manifests-venv"
reqs="$here/requirements.txt"
stamp="$venv/.requirements.sha256"

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "tests/manifests: needs Python >= 3.11 (tomllib); set PYTHON=..." >&2
  exit 1
fi

want=$(sha256sum "$reqs" | cut -d' ' -f1)
mkdir -p "$root/target"
# One installer at a time: the project's test command and CI may start
# this concurrently.
exec 9>"$root/target/manifests-venv.lock"
flock 9
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
  echo "tests/manifests: installing tools into target/manifests-venv" >&2
  rm -rf "$venv"
  if ! "$python" -m venv "$venv"; then
    echo "tests/manifests: '$python -m venv' failed (Debian: apt-get install python3-venv)" >&2
    exit 1
  fi
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    --no-input -r "$reqs"
  echo "$want" > "$stamp"
fi
flock -u 9

export KUBECTL="$venv/bin/kubectl"
export PYTHONDONTWRITEBYTECODE=1
cd "$here"
exec "$venv/bin/python" -m pytest "$@"
