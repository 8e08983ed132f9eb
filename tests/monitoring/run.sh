#!/usr/bin/env bash
# The monitoring package checked with the real tools (issue 20): Debian's
# `prometheus` package ships both `prometheus` and `promtool`.
#   1. promtool check rules: the alerting and recording rules;
#   2. promtool test rules: every alert fires just past its threshold and
#      not at it or before (monitoring/prometheus/tests/);
#   3. every PromQL expression of the Grafana dashboard parses (written as a
#      rules file by monitoring/generate.py, checked by promtool);
#   4. the PrometheusRule and the dashboard copy in
#      k8s/components/prometheus-rules are what monitoring/generate.py makes.
# The end-to-end test (a real Prometheus scraping the app under `spin up`)
# is tests/host/tests/metrics_prometheus.rs, run by `cargo test`.
#
# Nothing is skipped: without promtool this fails and says how to install it
# (.ci/run installs the package).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

promtool=${PROMTOOL:-$(command -v promtool || true)}
if [ -z "$promtool" ]; then
  echo "tests/monitoring: promtool not found; install it: apt-get install -y prometheus (Debian), or set PROMTOOL" >&2
  exit 1
fi
echo "== $("$promtool" --version 2>&1 | head -1)"

passed=0
failed=0
check() { # name command...
  local name=$1
  shift
  if out=$("$@" 2>&1); then
    passed=$((passed + 1))
    echo "ok: $name"
  else
    failed=$((failed + 1))
    echo "FAILED: $name"
    echo "$out" | sed 's/^/    /'
  fi
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check "promtool check rules" "$promtool" check rules monitoring/prometheus/todo-workers.rules.yaml
for t in monitoring/prometheus/tests/*.test.yaml; do
  check "promtool test rules $(basename "$t")" "$promtool" test rules "$t"
done
check "dashboard expressions written as rules" python3 monitoring/generate.py --dashboard-rules "$tmp/dashboard.rules.yaml"
check "dashboard expressions parse" "$promtool" check rules "$tmp/dashboard.rules.yaml"
check "k8s/components/prometheus-rules is generated from monitoring/" python3 monitoring/generate.py --check

echo "monitoring: $passed passed, $failed failed"
[ "$failed" = 0 ]
