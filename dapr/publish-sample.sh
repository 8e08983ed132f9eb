#!/bin/sh
# Publishes sample events through a Dapr sidecar's HTTP API
# (POST /v1.0/publish/<pubsub>/<topic>), locally (dapr/run.sh) or in the
# cluster through `kubectl port-forward` (k8s/README.md):
#
#   dapr/publish-sample.sh reminder                # reminder.due on `reminders`
#   dapr/publish-sample.sh task-completed TASK_ID  # task.completed on `task-events`
#
# The event is sent as a whole CloudEvent (application/cloudevents+json), so
# its id and type arrive as written here. Environment: DAPR_HTTP_PORT (3500),
# DAPR_HOST (127.0.0.1), PUBSUB_NAME (kafka-pubsub), DAPR_API_TOKEN (sent as
# dapr-api-token when set), USER_ID (u-42), TITLE.
set -eu

port=${DAPR_HTTP_PORT:-3500}
host=${DAPR_HOST:-127.0.0.1}
pubsub=${PUBSUB_NAME:-kafka-pubsub}
user_id=${USER_ID:-u-42}

usage() {
  echo "usage: $0 reminder | task-completed TASK_ID" >&2
  exit 2
}

new_uuid() {
  if [ -r /proc/sys/kernel/random/uuid ]; then
    cat /proc/sys/kernel/random/uuid
  elif command -v uuidgen >/dev/null 2>&1; then
    uuidgen | tr '[:upper:]' '[:lower:]'
  else
    python3 -c 'import uuid; print(uuid.uuid4())'
  fi
}

# publish TOPIC TYPE DATA_JSON
publish() {
  id=$(new_uuid)
  body=$(printf '{"specversion":"1.0","id":"%s","source":"dapr/publish-sample.sh","type":"%s","datacontenttype":"application/json","data":%s}' \
    "$id" "$2" "$3")
  url="http://$host:$port/v1.0/publish/$pubsub/$1"
  if [ -n "${DAPR_API_TOKEN:-}" ]; then
    set -- -H "dapr-api-token: $DAPR_API_TOKEN"
  else
    set --
  fi
  # Dapr answers 204 once the broker has the event.
  curl --fail --silent --show-error -X POST "$@" \
    -H "Content-Type: application/cloudevents+json" \
    --data "$body" "$url"
  echo "published $id to $url" >&2
}

now=$(date -u +%Y-%m-%dT%H:%M:%SZ)

case "${1:-}" in
  reminder)
    # (task_id, remind_at) identifies a reminder: a new task id each run
    # makes a new reminder; publish the same body twice to see the dedup.
    task_id=$(new_uuid)
    title=${TITLE:-Pay rent}
    publish reminders reminder.due \
      "$(printf '{"task_id":"%s","user_id":"%s","title":"%s","remind_at":"%s","channels":["email","push"]}' \
        "$task_id" "$user_id" "$title" "$now")"
    ;;
  task-completed)
    [ -n "${2:-}" ] || usage
    # The recurrence service reads the task row by id: the task must exist
    # (and be recurring) in the tasks table, else the event is DROPped.
    publish task-events task.completed \
      "$(printf '{"task_id":"%s","user_id":"%s","completed_at":"%s","has_recurrence":true}' \
        "$2" "$user_id" "$now")"
    ;;
  *)
    usage
    ;;
esac
