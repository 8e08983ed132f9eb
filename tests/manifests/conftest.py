"""Shared fixtures: the rendered overlays (rendered once per run), spin.toml
and the example Secrets."""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mcheck import render, spin  # noqa: E402

_RENDERED: dict[str, list[dict]] = {}


def rendered(overlay: str) -> list[dict]:
    """A fresh copy of the overlay's objects, safe for a test to mutate."""
    if overlay not in _RENDERED:
        _RENDERED[overlay] = render.render(overlay)
    return copy.deepcopy(_RENDERED[overlay])


@pytest.fixture(scope="session")
def manifest() -> spin.SpinManifest:
    return spin.load()


@pytest.fixture
def example_secrets() -> list[dict]:
    return render.load_documents((render.K8S / "secret.example.yaml").read_text())
