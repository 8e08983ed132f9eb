"""Validation of rendered objects against their real schemas.

Built-in kinds: the Kubernetes OpenAPI schemas shipped by kubernetes-validate.
Custom resources: the openAPIV3Schema of the upstream CRDs in ../schemas/
(spin-operator v0.6.1, Dapr v1.18.3, KEDA v2.20.2, prometheus-operator
v0.89.0's PrometheusRule), made strict the way the API server is
with kubectl's default `--validate=strict`: a field the schema does not know
is an error, not something to prune silently.
"""

from __future__ import annotations

import copy
import json
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path

import jsonschema
import kubernetes_validate
import yaml
from referencing import Registry, Resource

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"
# Kinds whose schema must be present (the test fails, naming where to put
# it, rather than validating nothing).
REQUIRED = {
    ("monitoring.coreos.com/v1", "PrometheusRule"): "prometheus-operator-v0.89.0/monitoring.coreos.com_prometheusrules.yaml"
    " (example/prometheus-operator-crd/ of prometheus-operator v0.89.0, unmodified, with its LICENSE)",
}
# Built-in kinds are checked against this release's schemas: old enough that
# the manifests cannot lean on a field newer clusters alone accept.
KUBERNETES_VERSION = "1.31.0"
DEFINITIONS_ID = "https://kubernetes.io/api/_definitions.json"
OBJECT_META = DEFINITIONS_ID + "#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


class SchemaError(Exception):
    """An object does not validate (or has no schema)."""


def strict(schema):
    """Copy of an OpenAPI v3 schema in which every object with declared
    properties rejects undeclared ones (unless the CRD preserves unknown
    fields there)."""
    schema = copy.deepcopy(schema)

    def walk(node):
        if isinstance(node, dict):
            if (
                "properties" in node
                and "additionalProperties" not in node
                and not node.get("x-kubernetes-preserve-unknown-fields")
            ):
                node["additionalProperties"] = False
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return schema


@lru_cache(maxsize=None)
def crd_schemas() -> dict[tuple[str, str], dict]:
    """(apiVersion, kind) -> strict openAPIV3Schema, for every CRD file."""
    found = {}
    for path in sorted(SCHEMAS.glob("*/*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if not doc or doc.get("kind") != "CustomResourceDefinition":
                continue
            group = doc["spec"]["group"]
            kind = doc["spec"]["names"]["kind"]
            for version in doc["spec"]["versions"]:
                schema = strict(version["schema"]["openAPIV3Schema"])
                # The API server checks metadata as ObjectMeta, whatever the
                # CRD says (`type: object`); do the same.
                schema["properties"]["metadata"] = {"$ref": OBJECT_META}
                found[(f"{group}/{version['name']}", kind)] = schema
    return found


@lru_cache(maxsize=None)
def _registry() -> Registry:
    folder = f"v{KUBERNETES_VERSION}-local-strict"
    path = resources.files("kubernetes_validate").joinpath(
        "kubernetes-json-schema", folder, "_definitions.json"
    )
    definitions = json.loads(path.read_text())
    return Resource.from_contents(definitions) @ Registry()


def validate_custom(obj: dict) -> None:
    key = (obj.get("apiVersion"), obj.get("kind"))
    schema = crd_schemas().get(key)
    if schema is None and key in REQUIRED:
        raise SchemaError(
            f"no CRD schema for {key[0]} {key[1]}: put {REQUIRED[key]} under "
            f"{SCHEMAS}"
        )
    if schema is None:
        raise SchemaError(f"no CRD schema for {obj.get('apiVersion')} {obj.get('kind')}")
    validator = jsonschema.Draft202012Validator(schema, registry=_registry())
    errors = sorted(validator.iter_errors(obj), key=lambda e: list(e.absolute_path))
    if errors:
        raise SchemaError(
            "; ".join(f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors)
        )


def validate_builtin(obj: dict) -> None:
    try:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.SchemaNotFoundError as err:
        raise SchemaError(err.message) from None
    except kubernetes_validate.ValidationError as err:
        path = "/".join(map(str, err.absolute_path)) or "<root>"
        raise SchemaError(f"{path}: {err.message}") from None


def validate(obj: dict) -> None:
    """Raise SchemaError unless obj validates against its kind's schema."""
    name = (obj.get("metadata") or {}).get("name", "")
    if not DNS1123_SUBDOMAIN.match(name) or len(name) > 253:
        raise SchemaError(f"metadata/name {name!r} is not a DNS-1123 subdomain")
    api_group = obj.get("apiVersion", "").rpartition("/")[0]
    if (obj.get("apiVersion"), obj.get("kind")) in crd_schemas() or api_group.endswith(
        (".dapr.io", "dapr.io", ".spinkube.dev", "monitoring.coreos.com")
    ):
        validate_custom(obj)
    else:
        validate_builtin(obj)
