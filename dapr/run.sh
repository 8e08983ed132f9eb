#!/usr/bin/env bash
# Runs the whole app locally behind a Dapr sidecar, the way it runs in the
# cluster's joint overlay (one app-id, both consumers):
#
#   dapr/run.sh [extra spin up arguments]
#
# Needs the Spin CLI 3.6.x, the Dapr CLI (`dapr init`, or `dapr init --slim`
# plus a Redis on localhost:6379) and PostgreSQL: scripts/dev-up.sh starts a
# throwaway one and migrates it unless DATABASE_URL is set. E-mail goes to a
# Mailpit on localhost:8025 unless SPIN_VARIABLE_EMAIL_* say otherwise.
# Publish test events with dapr/publish-sample.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

# The components in dapr/components are scoped to this app-id.
app_id=todo-workers
app_port=${APP_PORT:-3000}
dapr_http_port=${DAPR_HTTP_PORT:-3500}

# The Spin CLI reads variables only as SPIN_VARIABLE_<NAME> (unlike the
# SpinKube shim, it does not pick up the sidecar's DAPR_HTTP_PORT). A value
# already in the environment wins.
export SPIN_VARIABLE_DAPR_HTTP_PORT="$dapr_http_port"
export SPIN_VARIABLE_PUBSUB_NAME="${SPIN_VARIABLE_PUBSUB_NAME:-kafka-pubsub}"
export SPIN_VARIABLE_DAPR_SERVICES="${SPIN_VARIABLE_DAPR_SERVICES:-notification,recurrence}"
# Bulk requests, as in the cluster (0 = one event per request).
export SPIN_VARIABLE_BULK_MAX_MESSAGES="${SPIN_VARIABLE_BULK_MAX_MESSAGES:-100}"
export SPIN_VARIABLE_BULK_MAX_AWAIT_MS="${SPIN_VARIABLE_BULK_MAX_AWAIT_MS:-1000}"
export SPIN_VARIABLE_EMAIL_PROVIDER="${SPIN_VARIABLE_EMAIL_PROVIDER:-mailpit}"
export SPIN_VARIABLE_EMAIL_RELAY_BASE="${SPIN_VARIABLE_EMAIL_RELAY_BASE:-http://localhost:8025}"
export SPIN_VARIABLE_EMAIL_FROM="${SPIN_VARIABLE_EMAIL_FROM:-Todo <reminders@example.com>}"

# Tokens are off unless set. daprd reads APP_API_TOKEN (sent to the app as
# dapr-api-token) and DAPR_API_TOKEN (required from the app) from the
# environment; the app gets the same values as its variables.
if [ -n "${APP_API_TOKEN:-}" ]; then
  export SPIN_VARIABLE_APP_API_TOKEN="$APP_API_TOKEN"
fi
if [ -n "${DAPR_API_TOKEN:-}" ]; then
  export SPIN_VARIABLE_DAPR_API_TOKEN="$DAPR_API_TOKEN"
fi

# Build before the sidecar starts: daprd reads GET /dapr/subscribe once, when
# it first reaches the app.
spin build

# scripts/dev-up.sh provides the database (SPIN_VARIABLE_DATABASE_URL and
# _HOST) and runs `spin build --up --runtime-config-file runtime-config.toml`.
exec dapr run \
  --app-id "$app_id" \
  --app-port "$app_port" \
  --app-protocol http \
  --dapr-http-port "$dapr_http_port" \
  --resources-path dapr/components \
  --enable-app-health-check \
  --app-health-check-path /notifications/readyz \
  -- scripts/dev-up.sh --listen "127.0.0.1:$app_port" "$@"
