"""Rendering the kustomize overlays exactly as `kubectl apply -k` would."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]
K8S = ROOT / "k8s"
OVERLAYS = {name: K8S / "overlays" / name for name in ("joint", "split", "split-keda", "joint-monitoring")}


def kubectl() -> str:
    """The kubectl to render with: run.sh pins one in the venv."""
    path = os.environ.get("KUBECTL") or shutil.which("kubectl")
    if not path:
        raise RuntimeError("no kubectl: run tests/manifests/run.sh, or set KUBECTL")
    return path


def kustomize(directory: Path) -> str:
    result = subprocess.run(
        [kubectl(), "kustomize", str(directory)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"kubectl kustomize {directory} failed:\n{result.stderr}")
    return result.stdout


def load_documents(text: str) -> list[dict]:
    """All YAML documents of a stream, empty ones dropped."""
    return [doc for doc in yaml.safe_load_all(text) if doc is not None]


def render(overlay: str) -> list[dict]:
    return load_documents(kustomize(OVERLAYS[overlay]))


def describe(obj: dict) -> str:
    meta = obj.get("metadata") or {}
    return f"{obj.get('kind')}/{meta.get('name')}"
