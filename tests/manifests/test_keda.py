"""The opt-in KEDA component (k8s/components/keda-kafka-lag, rendered by the
split-keda overlay): each consumer SpinApp scales on its own consumer
group's lag on its own topic, never past the topic's partition count, and
hands its replica count to KEDA. The schemas themselves are checked in
test_schemas.py (KEDA v2.20.2 CRDs)."""

from __future__ import annotations

import pytest

from conftest import rendered
from mcheck import schemas

# The topic each consumer service reads (contract: reminders, task-events).
TOPICS = {"todo-workers-notification": "reminders", "todo-workers-recurrence": "task-events"}


def _by_kind(objs, kind):
    return {o["metadata"]["name"]: o for o in objs if o["kind"] == kind}


def _kafka_metadata(objs):
    kafka = next(o for o in objs if o["kind"] == "Component" and o["spec"]["type"] == "pubsub.kafka")
    return {m["name"]: m.get("value") for m in kafka["spec"]["metadata"]}


def test_every_consumer_spinapp_has_one_scaledobject_and_nothing_else_does():
    objs = rendered("split-keda")
    scaled = _by_kind(objs, "ScaledObject")
    consumers = {name for name, app in _by_kind(objs, "SpinApp").items()
                 if "subscriptions" in app["spec"]["components"]
                 and any(v.get("name") == "dapr_services" and v.get("value")
                         for v in app["spec"]["variables"])}
    assert set(scaled) == consumers == set(TOPICS)


@pytest.mark.parametrize("name", sorted(TOPICS))
def test_trigger_watches_the_dapr_consumer_group_and_topic(name):
    objs = rendered("split-keda")
    app = _by_kind(objs, "SpinApp")[name]
    so = _by_kind(objs, "ScaledObject")[name]
    kafka = _kafka_metadata(objs)
    assert so["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
    [trigger] = so["spec"]["triggers"]
    meta = trigger["metadata"]
    assert trigger["type"] == "kafka"
    # The Dapr component's consumerGroup is "{appID}".
    assert kafka["consumerGroup"] == "{appID}"
    assert meta["consumerGroup"] == app["spec"]["podAnnotations"]["dapr.io/app-id"]
    assert meta["topic"] == TOPICS[name]
    assert meta["bootstrapServers"] == kafka["brokers"]
    assert meta["offsetResetPolicy"] == ("earliest" if kafka["initialOffset"] == "oldest" else "latest")
    assert meta["sasl"] == "scram_sha512" and kafka["saslMechanism"] == "SHA-512"
    assert meta["tls"] == ("enable" if kafka["disableTls"] == "false" else "disable")
    auth = _by_kind(objs, "TriggerAuthentication")[trigger["authenticationRef"]["name"]]
    assert {r["parameter"] for r in auth["spec"]["secretTargetRef"]} == {"username", "password", "ca"}


@pytest.mark.parametrize("name", sorted(TOPICS))
def test_replicas_never_exceed_the_partitions(name):
    so = _by_kind(rendered("split-keda"), "ScaledObject")[name]
    partitions = int(so["metadata"]["annotations"]["todo.example/topic-partitions"])
    assert 1 <= so["spec"]["minReplicaCount"] <= so["spec"]["maxReplicaCount"] <= partitions


def test_scaled_spinapps_hand_replicas_to_keda_and_the_rest_are_unchanged():
    plain = _by_kind(rendered("split"), "SpinApp")
    keda = _by_kind(rendered("split-keda"), "SpinApp")
    for name, app in keda.items():
        if name in TOPICS:
            assert app["spec"]["enableAutoscaling"] is True
            assert "replicas" not in app["spec"]
            del app["spec"]["enableAutoscaling"]
            app["spec"]["replicas"] = plain[name]["spec"]["replicas"]
        assert app == plain[name]


def test_a_scaledobject_with_a_typo_is_rejected():
    so = next(o for o in rendered("split-keda") if o["kind"] == "ScaledObject")
    so["spec"]["maxReplicas"] = 4
    with pytest.raises(schemas.SchemaError, match="'maxReplicas' was unexpected"):
        schemas.validate(so)
