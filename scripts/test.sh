#!/usr/bin/env bash
# The whole test suite: builds the release components, lints, validates the
# Kubernetes manifests offline, runs every Rust test (unit, property, and
# end-to-end: the built .wasm files under the real `spin up` against a
# throwaway PostgreSQL the tests start themselves, unless DATABASE_URL is
# set), then smoke-tests scripts/dev-up.sh.
#
# Needs the Spin CLI 3.6.x: `spin` on PATH, or SPIN_BIN. Nothing is skipped
# without it; the script stops and says how to install it.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${SPIN_BIN:-}" ]; then
  SPIN_BIN=$(command -v spin || true)
fi
if [ -z "$SPIN_BIN" ] || [ ! -x "$SPIN_BIN" ]; then
  cat >&2 <<'MSG'
scripts/test.sh: the Spin CLI 3.6.x is required (the end-to-end tests run the
app under `spin up`), and none was found on PATH or in SPIN_BIN.
Install it from https://spinframework.dev/install (Spin 3.6.x, the version
SpinKube's containerd-shim-spin v0.24 embeds), or run .ci/run, which
installs it where it can.
MSG
  exit 1
fi
export SPIN_BIN
echo "== spin: $("$SPIN_BIN" --version)"

echo "== build: release components (wasm32-wasip2)"
# One cargo invocation per component, as `spin build` runs them: built
# together, cargo would unify features across them (the time-zone database
# that notification and recurrence need would land in every component).
for component in subscriptions notification recurrence scheduler metrics; do
  cargo build --target wasm32-wasip2 --release -p "$component"
done

echo "== lint: fmt and clippy (native and wasm32-wasip2)"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy --target wasm32-wasip2 -p subscriptions -p notification -p recurrence -p scheduler -p metrics \
  -p dapr-pubsub -p todo-contract -p spin-glue -p recurrence-rules -p recurrence-core -p notification-core -p notification-api -p scheduler-core -p metrics-core -- -D warnings

echo "== lint: no module imports a module that imports it back"
python3 scripts/module-cycles.py
if python3 scripts/module-cycles.py tests/module-cycles/cyclic >/dev/null; then
  echo "scripts/module-cycles.py did not find the cycle of tests/module-cycles/cyclic" >&2
  exit 1
fi

echo "== lint: one unit-test layout (a sibling tests.rs, never an inline module)"
python3 scripts/unit-test-layout.py
if python3 scripts/unit-test-layout.py tests/unit-test-layout/inline >/dev/null 2>&1; then
  echo "scripts/unit-test-layout.py did not find the inline tests of tests/unit-test-layout/inline" >&2
  exit 1
fi

echo "== lint: doc comments (every link resolves, private items included)"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --document-private-items \
  -p subscriptions -p notification -p recurrence -p scheduler -p metrics \
  -p dapr-pubsub -p todo-contract -p spin-glue -p recurrence-rules -p recurrence-core -p notification-core -p notification-api -p scheduler-core -p metrics-core

echo "== supply chain: cargo deny (deny.toml)"
scripts/supply-chain.sh

echo "== manifests: render and validate k8s overlays"
tests/manifests/run.sh

echo "== monitoring: promtool check and unit tests of the rules, dashboard PromQL"
tests/monitoring/run.sh

echo "== tests: cargo test (unit, property, end-to-end under spin up)"
cargo test --workspace

echo "== smoke: scripts/dev-up.sh from a clean checkout"
tests/dev-up-smoke.sh
