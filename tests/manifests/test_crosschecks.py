"""Cross-checks between the rendered overlays and spin.toml: each passes on
the real manifests, and each reports the specific failure on a deliberately
broken copy."""

from __future__ import annotations

import pytest

from conftest import rendered
from mcheck import checks

OVERLAYS = ["joint", "split"]


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("check", sorted(checks.ALL_OVERLAY_CHECKS))
def test_real_manifests_pass(check, overlay, manifest, example_secrets):
    assert checks.ALL_OVERLAY_CHECKS[check](rendered(overlay), manifest, example_secrets) == []


# --- mutation helpers --------------------------------------------------------


def app(objs, suffix=""):
    """The SpinApp whose name ends with suffix (joint: the only one)."""
    return next(o for o in objs if o["kind"] == "SpinApp" and o["metadata"]["name"].endswith(suffix))


def named(objs, kind, name):
    return next(o for o in objs if o["kind"] == kind and o["metadata"]["name"] == name)


def var(objs, name, suffix=""):
    return next(v for v in app(objs, suffix)["spec"]["variables"] if v["name"] == name)


def set_var(objs, name, value, suffix=""):
    variables = app(objs, suffix)["spec"]["variables"]
    variables[:] = [v for v in variables if v["name"] != name] + [{"name": name, "value": value}]


def drop_var(objs, name, suffix=""):
    variables = app(objs, suffix)["spec"]["variables"]
    variables[:] = [v for v in variables if v["name"] != name]


def component_md(objs, name, key, value):
    for item in named(objs, "Component", name)["spec"]["metadata"]:
        if item["name"] == key:
            item["value"] = value


def move_dapr_annotations_to_metadata(objs):
    spinapp = app(objs)
    spinapp["metadata"]["annotations"] = spinapp["spec"].pop("podAnnotations")


# (check, overlay, mutation, expected fragment of the reported problem)
BROKEN = {
    "undeclared variable": (
        "variables_declared", "joint", lambda o: set_var(o, "databse_url", "x"),
        "variable 'databse_url' is not declared in spin.toml"),
    "variable set twice": (
        "variables_declared", "joint", lambda o: app(o)["spec"]["variables"].append({"name": "pubsub_name", "value": "x"}),
        "variable 'pubsub_name' is set twice"),
    "dapr_http_port hard-coded": (
        "variables_declared", "split", lambda o: set_var(o, "dapr_http_port", "3500", "-recurrence"),
        "variable 'dapr_http_port' must not be set"),
    "required variable missing": (
        "required_variables_set", "split", lambda o: drop_var(o, "database_url", "-recurrence"),
        "todo-workers-recurrence: required variable 'database_url' is not set"),
    "required variable empty": (
        "required_variables_set", "joint", lambda o: set_var(o, "database_url", ""),
        "required variable 'database_url' is empty"),
    "unknown component": (
        "components_exist", "split", lambda o: app(o, "-recurrence")["spec"]["components"].append("recurrance"),
        "component 'recurrance' is not in spin.toml"),
    "readiness on a parameterised route": (
        "probes", "joint",
        lambda o: app(o)["spec"]["checks"]["readiness"]["httpGet"].__setitem__("path", "/notifications/subscribers/:user_id"),
        "readiness probe '/notifications/subscribers/:user_id' is not an exact route"),
    "readiness on no route": (
        "probes", "joint", lambda o: app(o)["spec"]["checks"]["readiness"]["httpGet"].__setitem__("path", "/readyz"),
        "readiness probe '/readyz' is not an exact route"),
    "readiness on a component the app does not run": (
        "probes", "split",
        lambda o: app(o, "-recurrence")["spec"]["checks"]["readiness"]["httpGet"].__setitem__("path", "/notifications/readyz"),
        "served by component 'notification', which this SpinApp does not run"),
    "liveness missing": (
        "probes", "split", lambda o: app(o, "-notification")["spec"]["checks"].pop("liveness"),
        "todo-workers-notification: no liveness probe"),
    "liveness on no route": (
        "probes", "joint", lambda o: app(o)["spec"]["checks"]["liveness"]["httpGet"].__setitem__("path", "/healthz"),
        "liveness probe '/healthz' is not a route"),
    "readiness missing": (
        "probes", "split", lambda o: app(o, "-recurrence")["spec"]["checks"].pop("readiness"),
        "todo-workers-recurrence: no readiness probe"),
    "Dapr health check on no route": (
        "probes", "joint", lambda o: app(o)["spec"]["podAnnotations"].pop("dapr.io/app-health-check-path"),
        "Dapr app health check without app-health-check-path"),
    "split SpinApp without metrics": (
        "metrics_scraped", "split", lambda o: app(o, "-scheduler")["spec"]["components"].remove("metrics"),
        "todo-workers-scheduler: '/metrics' is served by component 'metrics', which this SpinApp does not run"),
    "no scrape annotation": (
        "metrics_scraped", "joint", lambda o: app(o)["spec"]["podAnnotations"].pop("prometheus.io/scrape"),
        "prometheus.io/scrape must be 'true' (got None)"),
    "scrape path not the metrics route": (
        "metrics_scraped", "split",
        lambda o: app(o, "-recurrence")["spec"]["podAnnotations"].__setitem__("prometheus.io/path", "/metrics/"),
        "prometheus.io/path must be '/metrics'"),
    "Dapr annotations on the SpinApp's metadata": (
        "dapr_annotations", "joint", move_dapr_annotations_to_metadata,
        "dapr.io/app-id is in metadata.annotations; it belongs in spec.podAnnotations"),
    "Dapr annotation on the Deployment": (
        "dapr_annotations", "split",
        lambda o: app(o, "-recurrence")["spec"].__setitem__("deploymentAnnotations", {"dapr.io/config": "todo-workers"}),
        "dapr.io/config is in spec.deploymentAnnotations"),
    "no app-id": (
        "dapr_annotations", "split", lambda o: app(o, "-recurrence")["spec"]["podAnnotations"].pop("dapr.io/app-id"),
        "lacks dapr.io/app-id"),
    "wrong app-port": (
        "dapr_annotations", "joint", lambda o: app(o)["spec"]["podAnnotations"].__setitem__("dapr.io/app-port", "3000"),
        "dapr.io/app-port must be \"80\""),
    "app-id used twice": (
        "app_ids_unique", "split",
        lambda o: app(o, "-recurrence")["spec"]["podAnnotations"].__setitem__("dapr.io/app-id", "todo-workers-notification"),
        "app-id 'todo-workers-notification' is used by"),
    "one consumer group for both app-ids": (
        "consumer_groups", "split", lambda o: component_md(o, "kafka-pubsub", "consumerGroup", "todo-workers"),
        "share consumer group 'todo-workers'"),
    "per-pod consumer group": (
        "consumer_groups", "split", lambda o: component_md(o, "kafka-pubsub", "consumerGroup", "{podName}"),
        "differs per pod"),
    "app token from another Secret": (
        "tokens", "joint", lambda o: var(o, "app_api_token")["valueFrom"]["secretKeyRef"].__setitem__("name", "other"),
        "dapr.io/app-token-secret is 'todo-workers-app-api-token' but variable 'app_api_token'"),
    "token variable without its annotation": (
        "tokens", "split", lambda o: app(o, "-notification")["spec"]["podAnnotations"].pop("dapr.io/api-token-secret"),
        "variable 'dapr_api_token' is set but dapr.io/api-token-secret is not"),
    "outbox binding scoped to the app without the route": (
        "dapr_wiring", "split", lambda o: named(o, "Component", "outbox-flush").__setitem__("scopes", ["todo-workers-recurrence"]),
        "scoped to todo-workers-recurrence, which does not serve /outbox-flush"),
    "outbox binding not scoped to the app with the route": (
        "dapr_wiring", "joint", lambda o: named(o, "Component", "outbox-flush").__setitem__("scopes", ["someone-else"]),
        "todo-workers serves /outbox-flush but is not in its scopes"),
    "outbox binding not an input": (
        "dapr_wiring", "joint", lambda o: component_md(o, "outbox-flush", "direction", "output"),
        "direction must be 'input'"),
    "scheduler binding scoped to an app without the scheduler": (
        "dapr_wiring", "split",
        lambda o: named(o, "Component", "reminder-scheduler").__setitem__("scopes", ["todo-workers-notification"]),
        "scoped to todo-workers-notification, which does not serve /scheduler/tick"),
    "scheduler binding without its route (Dapr would call /reminder-scheduler)": (
        "dapr_wiring", "joint",
        lambda o: named(o, "Component", "reminder-scheduler")["spec"].__setitem__(
            "metadata", [m for m in named(o, "Component", "reminder-scheduler")["spec"]["metadata"]
                         if m["name"] != "route"]),
        "spin.toml has no route /reminder-scheduler"),
    "retention binding scoped to an app without the scheduler": (
        "dapr_wiring", "split",
        lambda o: named(o, "Component", "retention").__setitem__("scopes", ["todo-workers-recurrence"]),
        "scoped to todo-workers-recurrence, which does not serve /retention/prune"),
    "retention binding not scoped to the scheduler": (
        "dapr_wiring", "split",
        lambda o: named(o, "Component", "retention").__setitem__("scopes", ["todo-workers-notification"]),
        "todo-workers-scheduler serves /retention/prune but is not in its scopes"),
    "retention binding without its route (Dapr would call /retention)": (
        "retention", "joint",
        lambda o: named(o, "Component", "retention")["spec"].__setitem__(
            "metadata", [m for m in named(o, "Component", "retention")["spec"]["metadata"]
                         if m["name"] != "route"]),
        "route must be '/retention/prune' (got None)"),
    "retention binding missing": (
        "retention", "split", lambda o: o.remove(named(o, "Component", "retention")),
        "expected one Component 'retention', found 0"),
    "retention binding without a schedule": (
        "retention", "joint",
        lambda o: named(o, "Component", "retention")["spec"].__setitem__(
            "metadata", [m for m in named(o, "Component", "retention")["spec"]["metadata"]
                         if m["name"] != "schedule"]),
        "Component/retention: no schedule"),
    "scheduler SpinApp without retention_days": (
        "retention", "split", lambda o: drop_var(o, "retention_days", "-scheduler"),
        "todo-workers-scheduler: runs 'scheduler' but does not set retention_days"),
    "retention_batch zero in the ConfigMap": (
        "retention", "joint",
        lambda o: next(c for c in o if c["kind"] == "ConfigMap" and "retention_batch" in c.get("data", {}))[
            "data"].__setitem__("retention_batch", "0"),
        "retention_batch is '0', not an integer from 1 to 100000"),
    "scheduler SpinApp without the pub/sub it publishes to": (
        "dapr_wiring", "split",
        lambda o: named(o, "Component", "kafka-pubsub")["scopes"].remove("todo-workers-scheduler"),
        "pubsub_name 'kafka-pubsub' is no pub/sub Component for todo-workers-scheduler"),
    "unscoped Dapr resource": (
        "dapr_wiring", "joint", lambda o: named(o, "Resiliency", "todo-workers").pop("scopes"),
        "Resiliency/todo-workers: no scopes"),
    "scope typo": (
        "dapr_wiring", "split",
        lambda o: named(o, "Component", "kafka-pubsub")["scopes"].__setitem__(1, "todo-workers-recurence"),
        "scope 'todo-workers-recurence' is no app-id"),
    "pubsub_name without a Component": (
        "dapr_wiring", "joint", lambda o: set_var(o, "pubsub_name", "pubsub"),
        "pubsub_name 'pubsub' is no pub/sub Component for todo-workers"),
    "dapr_services lists a service the app does not run": (
        "dapr_wiring", "split", lambda o: set_var(o, "dapr_services", "notification,recurrence", "-notification"),
        "dapr_services 'notification,recurrence' does not match the consumers it runs ['notification']"),
    "dapr_services left to its default in split": (
        "dapr_wiring", "split", lambda o: drop_var(o, "dapr_services", "-recurrence"),
        "todo-workers-recurrence: dapr_services 'notification,recurrence' does not match"),
    "no /dapr/subscribe": (
        "dapr_wiring", "split", lambda o: app(o, "-recurrence")["spec"]["components"].remove("subscriptions"),
        "does not run the component serving /dapr/subscribe"),
    "missing Configuration": (
        "dapr_wiring", "joint", lambda o: app(o)["spec"]["podAnnotations"].__setitem__("dapr.io/config", "tracing"),
        "dapr.io/config 'tracing' is not a rendered Configuration"),
    "unbounded inbound retry": (
        "dapr_wiring", "split",
        lambda o: named(o, "Resiliency", "todo-workers")["spec"]["policies"]["retries"]["deliveryRetry"].__setitem__("maxRetries", -1),
        "no Resiliency with a bounded inbound retry for pub/sub 'kafka-pubsub'"),
    "exponential retry without a cap": (
        "dapr_wiring", "joint",
        lambda o: named(o, "Resiliency", "todo-workers")["spec"]["policies"]["retries"]["deliveryRetry"].pop("maxInterval"),
        "no Resiliency with a bounded inbound retry"),
    "declarative Subscription too": (
        "dapr_wiring", "joint",
        lambda o: o.append({"apiVersion": "dapr.io/v2alpha1", "kind": "Subscription",
                            "metadata": {"name": "reminders", "namespace": "todo"}, "scopes": ["todo-workers"]}),
        "Subscription/reminders: declarative Subscription"),
    "replicas unset": (
        "replicas", "split", lambda o: app(o, "-notification")["spec"].pop("replicas"),
        "todo-workers-notification: replicas must be set to >= 1 (got None)"),
    "replicas zero": (
        "replicas", "joint", lambda o: app(o)["spec"].__setitem__("replicas", 0),
        "replicas must be set to >= 1 (got 0)"),
    "Secret key not in the example": (
        "secret_refs", "joint", lambda o: var(o, "database_url")["valueFrom"]["secretKeyRef"].__setitem__("key", "url"),
        "Secret 'todo-workers-db' key 'url' is not in k8s/secret.example.yaml"),
    "Dapr component Secret not in the example": (
        "secret_refs", "split",
        lambda o: named(o, "Component", "kafka-pubsub")["spec"]["metadata"].append(
            {"name": "clientCert", "secretKeyRef": {"name": "kafka-client", "key": "tls.crt"}}),
        "Component/kafka-pubsub clientCert: Secret 'kafka-client' key 'tls.crt'"),
    "ConfigMap key typo": (
        "config_refs", "joint", lambda o: var(o, "email_from")["valueFrom"]["configMapKeyRef"].__setitem__("key", "mail_from"),
        "has no key 'mail_from'"),
    "migration script not mounted": (
        "migration_job", "joint",
        lambda o: named(o, "Job", "todo-workers-migrate")["spec"]["template"]["spec"]["containers"][0].__setitem__(
            "command", ["sh", "/migrations/migrate.bash"]),
        "has no migrate.bash"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_copy_is_reported(case, manifest, example_secrets):
    check, overlay, mutate, expected = BROKEN[case]
    objs = rendered(overlay)
    mutate(objs)
    problems = checks.ALL_OVERLAY_CHECKS[check](objs, manifest, example_secrets)
    assert any(expected in p for p in problems), problems


def test_every_check_has_a_failing_case():
    assert set(checks.ALL_OVERLAY_CHECKS) == {check for check, *_ in BROKEN.values()}
