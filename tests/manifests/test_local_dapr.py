"""The local Dapr setup in dapr/: its resources validate, mirror the
cluster's (same pub/sub name, same bounded retries, same scoping), its run
script sets only declared variables, and its publish script sends what the
contract says to the sidecar's publish API (checked against a fake sidecar
on 127.0.0.1)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import rendered
from mcheck import checks, render, schemas
from mcheck.spin import ROOT

DAPR = ROOT / "dapr"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def local_resources() -> list[dict]:
    objs = []
    for path in sorted((DAPR / "components").glob("*.yaml")):
        objs += render.load_documents(path.read_text())
    return objs


def local_app_id() -> str:
    return re.search(r"^app_id=(\S+)$", (DAPR / "run.sh").read_text(), re.M).group(1)


def test_local_resources_validate():
    objs = local_resources()
    assert {o["kind"] for o in objs} == {"Component", "Resiliency"}
    for obj in objs:
        schemas.validate(obj)


def test_local_pubsub_has_the_cluster_name(manifest):
    local = [o for o in local_resources() if o["spec"].get("type", "").startswith("pubsub.")]
    cluster = [o for o in rendered("joint") if o["kind"] == "Component" and o["spec"]["type"].startswith("pubsub.")]
    assert [o["spec"]["type"] for o in local] == ["pubsub.redis"]
    assert {o["metadata"]["name"] for o in local} == {o["metadata"]["name"] for o in cluster}
    assert local[0]["metadata"]["name"] == manifest.default("pubsub_name")


def test_local_resiliency_matches_the_cluster():
    local = next(o for o in local_resources() if o["kind"] == "Resiliency")
    cluster = next(o for o in rendered("joint") if o["kind"] == "Resiliency")
    assert local["spec"] == cluster["spec"]


def test_local_resources_are_scoped_to_the_local_app():
    for obj in local_resources():
        assert obj.get("scopes") == [local_app_id()], render.describe(obj)


def undeclared_variables(script: str, manifest) -> list[str]:
    """SPIN_VARIABLE_<NAME>s a script exports that spin.toml does not declare."""
    exported = re.findall(r"export (SPIN_VARIABLE_[A-Z0-9_]+)=", script)
    assert exported, "no SPIN_VARIABLE_* exported"
    return [env for env in exported if env.removeprefix("SPIN_VARIABLE_").lower() not in manifest.variables]


def test_run_script_sets_only_declared_variables(manifest):
    script = (DAPR / "run.sh").read_text()
    assert "export SPIN_VARIABLE_DAPR_HTTP_PORT=" in script
    assert undeclared_variables(script, manifest) == []


def test_an_undeclared_variable_in_the_run_script_is_reported(manifest):
    script = (DAPR / "run.sh").read_text() + 'export SPIN_VARIABLE_PUBSUB="x"\n'
    assert undeclared_variables(script, manifest) == ["SPIN_VARIABLE_PUBSUB"]


def test_run_script_uses_the_local_resources():
    text = (DAPR / "run.sh").read_text()
    assert "--resources-path dapr/components" in text
    assert '--app-id "$app_id"' in text
    # The probe path of the joint overlay, a readiness route of spin.toml.
    assert "--app-health-check-path /notifications/readyz" in text


@pytest.mark.parametrize("script", ["dapr/run.sh", "dapr/publish-sample.sh", "k8s/sync-migrations.sh", "tests/manifests/run.sh"])
def test_scripts_parse(script):
    first = (ROOT / script).read_text().splitlines()[0]
    shell = "bash" if "bash" in first else "sh"
    subprocess.run([shell, "-n", str(ROOT / script)], check=True)


class FakeSidecar(BaseHTTPRequestHandler):
    received: list[dict] = []
    status = 204

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        FakeSidecar.received.append(
            {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
        )
        self.send_response(FakeSidecar.status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def sidecar():
    FakeSidecar.received = []
    FakeSidecar.status = 204
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeSidecar)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def publish(server, *args, token=None):
    env = {k: v for k, v in os.environ.items() if k not in ("DAPR_API_TOKEN", "PUBSUB_NAME", "USER_ID")}
    env.update(DAPR_HTTP_PORT=str(server.server_address[1]), DAPR_HOST="127.0.0.1")
    if token:
        env["DAPR_API_TOKEN"] = token
    return subprocess.run(
        ["sh", str(DAPR / "publish-sample.sh"), *args], env=env, capture_output=True, text=True, timeout=30
    )


def test_publishes_a_reminder_due(sidecar):
    result = publish(sidecar, "reminder")
    assert result.returncode == 0, result.stderr
    [request] = FakeSidecar.received
    assert request["path"] == "/v1.0/publish/kafka-pubsub/reminders"
    assert request["headers"]["content-type"] == "application/cloudevents+json"
    assert "dapr-api-token" not in request["headers"]
    event = json.loads(request["body"])
    assert event["specversion"] == "1.0" and event["type"] == "reminder.due"
    assert UUID.match(event["id"])
    data = event["data"]
    assert set(data) <= {"task_id", "user_id", "title", "due_at", "remind_at", "channels"}
    assert UUID.match(data["task_id"]) and data["user_id"] == "u-42" and data["title"]
    assert RFC3339.match(data["remind_at"])
    assert data["channels"] == ["email", "push"]


def test_publishes_a_task_completed_with_the_token(sidecar):
    task_id = "6f1c2b7e-1111-4a2b-9c3d-000000000001"
    result = publish(sidecar, "task-completed", task_id, token="local-token")
    assert result.returncode == 0, result.stderr
    [request] = FakeSidecar.received
    assert request["path"] == "/v1.0/publish/kafka-pubsub/task-events"
    assert request["headers"]["dapr-api-token"] == "local-token"
    event = json.loads(request["body"])
    assert event["type"] == "task.completed"
    assert event["data"]["task_id"] == task_id and event["data"]["has_recurrence"] is True
    assert RFC3339.match(event["data"]["completed_at"])


def test_a_refused_publish_fails_the_script(sidecar):
    FakeSidecar.status = 500
    assert publish(sidecar, "reminder").returncode != 0


def test_task_completed_needs_a_task_id(sidecar):
    assert publish(sidecar, "task-completed").returncode == 2
    assert FakeSidecar.received == []


def test_local_outbox_binding_reaches_the_notification_route(manifest):
    binding = next(o for o in local_resources() if o["spec"].get("type") == "bindings.cron")
    # The local app runs every component (no selective deployment).
    local_app = {"kind": "SpinApp", "metadata": {"name": "local"},
                 "spec": {"podAnnotations": {"dapr.io/enabled": "true", "dapr.io/app-id": local_app_id()}}}
    assert binding["metadata"]["name"] == "outbox-flush"
    assert checks.check_dapr_wiring(local_resources() + [local_app], manifest) == []


def test_local_scheduler_binding_reaches_the_scheduler_route(manifest):
    bindings = {o["metadata"]["name"]: o for o in local_resources() if o["spec"].get("type") == "bindings.cron"}
    binding = bindings["reminder-scheduler"]
    assert checks.component_metadata(binding) == {
        "schedule": "@every 15s", "direction": "input", "route": "/scheduler/tick"}
    local_app = {"kind": "SpinApp", "metadata": {"name": "local"},
                 "spec": {"podAnnotations": {"dapr.io/enabled": "true", "dapr.io/app-id": local_app_id()}}}
    assert checks.check_dapr_wiring(local_resources() + [local_app], manifest) == []


def test_local_retention_binding_reaches_the_prune_route(manifest):
    bindings = {o["metadata"]["name"]: o for o in local_resources() if o["spec"].get("type") == "bindings.cron"}
    binding = bindings["retention"]
    assert checks.component_metadata(binding) == {
        "schedule": "@every 1h", "direction": "input", "route": "/retention/prune"}
    local_app = {"kind": "SpinApp", "metadata": {"name": "local"},
                 "spec": {"podAnnotations": {"dapr.io/enabled": "true", "dapr.io/app-id": local_app_id()}}}
    assert checks.check_dapr_wiring(local_resources() + [local_app], manifest) == []
    # The local app runs every component with spin.toml's defaults (CONTRACT.md, section 8).
    assert (manifest.default("retention_days"), manifest.default("retention_batch")) == ("30", "5000")


def test_cluster_and_local_retention_bindings_agree():
    local = next(o for o in local_resources() if o["metadata"]["name"] == "retention")
    for overlay in ("joint", "split", "split-keda"):
        cluster = next(o for o in rendered(overlay)
                       if o["kind"] == "Component" and o["metadata"]["name"] == "retention")
        assert cluster["spec"] == local["spec"], overlay
