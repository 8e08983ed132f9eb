#!/usr/bin/env bash
# The whole test suite: builds the release components, runs every Rust test
# (unit, property, and end-to-end through the component test host against a
# throwaway PostgreSQL it starts itself unless DATABASE_URL is set), lints,
# and validates the Kubernetes manifests offline.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== build: release components (wasm32-wasip2)"
cargo build --target wasm32-wasip2 --release -p subscriptions -p notification -p recurrence -p scheduler

echo "== lint: fmt and clippy (native and wasm32-wasip2)"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy --target wasm32-wasip2 -p subscriptions -p notification -p recurrence -p scheduler \
  -p dapr-pubsub -p component-kit -p recurrence-rules -p notification-delivery -p reminder-schedule -- -D warnings

echo "== manifests: render and validate k8s overlays"
if [ -x tests/manifests/run.sh ]; then
  tests/manifests/run.sh
fi

echo "== tests: cargo test (unit, property, end-to-end)"
cargo test --workspace
