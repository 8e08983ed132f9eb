"""Both overlays render, and every object validates against its real schema:
Kubernetes built-ins against the Kubernetes OpenAPI schemas
(kubernetes-validate), SpinApp/SpinAppExecutor against the spin-operator
v0.6.1 CRDs, Dapr kinds against the Dapr v1.18.3 CRDs, KEDA kinds against the
KEDA v2.20.2 CRDs, PrometheusRule against prometheus-operator v0.89.0's CRD."""

from __future__ import annotations

import re

import pytest

from conftest import rendered
from mcheck import render, schemas

OVERLAYS = ["joint", "split", "split-keda", "joint-monitoring"]
EXPECTED_KINDS = {
    "joint": {"SpinApp": 1, "SpinAppExecutor": 1, "Component": 4, "Resiliency": 1,
              "Configuration": 1, "Job": 1, "ConfigMap": 2, "Namespace": 1},
    "split": {"SpinApp": 3, "SpinAppExecutor": 1, "Component": 4, "Resiliency": 1,
              "Configuration": 1, "Job": 1, "ConfigMap": 2, "Namespace": 1},
    "split-keda": {"SpinApp": 3, "SpinAppExecutor": 1, "Component": 4, "Resiliency": 1,
                   "Configuration": 1, "Job": 1, "ConfigMap": 2, "Namespace": 1,
                   "ScaledObject": 2, "TriggerAuthentication": 1},
    "joint-monitoring": {"SpinApp": 1, "SpinAppExecutor": 1, "Component": 4, "Resiliency": 1,
                         "Configuration": 1, "Job": 1, "ConfigMap": 3, "Namespace": 1,
                         "PrometheusRule": 1},
}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_renders_the_expected_objects(overlay):
    counts: dict[str, int] = {}
    for obj in rendered(overlay):
        counts[obj["kind"]] = counts.get(obj["kind"], 0) + 1
    assert counts == EXPECTED_KINDS[overlay]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_validates_against_its_schema(overlay):
    failures = []
    for obj in rendered(overlay):
        try:
            schemas.validate(obj)
        except schemas.SchemaError as err:
            failures.append(f"{render.describe(obj)}: {err}")
    assert failures == []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_everything_lands_in_one_namespace(overlay):
    namespaces = {(o["metadata"].get("namespace")) for o in rendered(overlay) if o["kind"] != "Namespace"}
    assert namespaces == {"todo"}


def test_example_secrets_validate(example_secrets):
    assert example_secrets
    for secret in example_secrets:
        schemas.validate(secret)


def _first(objs, kind):
    return next(o for o in objs if o["kind"] == kind)


# Each broken object must be rejected: proves the validators can fail, for
# each family of schema.
BROKEN = {
    "SpinApp unknown field": ("SpinApp", lambda o: o["spec"].__setitem__("replica", 2), "'replica' was unexpected"),
    "SpinApp without executor": ("SpinApp", lambda o: o["spec"].pop("executor"), "'executor' is a required"),
    "SpinApp replicas as string": ("SpinApp", lambda o: o["spec"].__setitem__("replicas", "2"), "is not of type 'integer'"),
    "SpinApp probe port (probes always use 80)": (
        "SpinApp", lambda o: o["spec"]["checks"]["readiness"]["httpGet"].__setitem__("port", 8080), "'port' was unexpected"),
    "SpinApp metadata typo": ("SpinApp", lambda o: o["metadata"].__setitem__("annotation", {}), "'annotation' was unexpected"),
    "SpinAppExecutor without createDeployment": (
        "SpinAppExecutor", lambda o: o["spec"].pop("createDeployment"), "'createDeployment' is a required"),
    "Component metadata item typo": (
        "Component", lambda o: o["spec"]["metadata"][0].__setitem__("valu", "x"), "'valu' was unexpected"),
    "Component without version": ("Component", lambda o: o["spec"].pop("version"), "'version' is a required"),
    "Resiliency maxRetries as string": (
        "Resiliency", lambda o: o["spec"]["policies"]["retries"]["deliveryRetry"].__setitem__("maxRetries", "10"),
        "is not of type 'integer'"),
    "Configuration unknown section": ("Configuration", lambda o: o["spec"].__setitem__("tracings", {}), "'tracings' was unexpected"),
    "Job container typo": (
        "Job", lambda o: o["spec"]["template"]["spec"]["containers"][0].__setitem__("commnd", ["sh"]), "'commnd' was unexpected"),
    "ConfigMap non-string value": ("ConfigMap", lambda o: o["data"].__setitem__("x", 5), "is not of type 'string'"),
    "name not DNS-1123": ("Namespace", lambda o: o["metadata"].__setitem__("name", "Todo_NS"), "DNS-1123"),
    "unknown kind": ("Component", lambda o: o.__setitem__("kind", "Componnent"), "no CRD schema"),
    "PrometheusRule alert without expr": (
        "PrometheusRule", lambda o: o["spec"]["groups"][1]["rules"][0].pop("expr"), "'expr' is a required"),
    "PrometheusRule group typo": (
        "PrometheusRule", lambda o: o["spec"]["groups"][0].__setitem__("rule", []), "'rule' was unexpected"),
    "PrometheusRule for: not a duration": (
        "PrometheusRule", lambda o: o["spec"]["groups"][1]["rules"][0].__setitem__("for", "5 minutes"), "does not match"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_validation_rejects_a_broken_object(case):
    kind, mutate, message = BROKEN[case]
    obj = _first(rendered("joint-monitoring" if kind == "PrometheusRule" else "split"), kind)
    mutate(obj)
    with pytest.raises(schemas.SchemaError, match=re.escape(message)):
        schemas.validate(obj)
