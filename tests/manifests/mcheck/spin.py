"""What the manifests need to know about spin.toml: variables, components,
HTTP routes."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SPIN_TOML = ROOT / "spin.toml"
# Served by Spin itself for every app, whatever the manifest says.
SPIN_HEALTH = "/.well-known/spin/health"


@dataclass
class Variable:
    name: str
    required: bool
    default: str | None
    secret: bool


@dataclass
class SpinManifest:
    variables: dict[str, Variable] = field(default_factory=dict)
    components: set[str] = field(default_factory=set)
    # route -> component, public HTTP routes only
    routes: dict[str, str] = field(default_factory=dict)

    def default(self, name: str) -> str | None:
        var = self.variables.get(name)
        return var.default if var else None


def parse(text: str) -> SpinManifest:
    doc = tomllib.loads(text)
    manifest = SpinManifest()
    for name, spec in (doc.get("variables") or {}).items():
        manifest.variables[name] = Variable(
            name=name,
            required=bool(spec.get("required", False)),
            default=spec.get("default"),
            secret=bool(spec.get("secret", False)),
        )
    manifest.components = set((doc.get("component") or {}).keys())
    for trigger in (doc.get("trigger") or {}).get("http", []):
        route = trigger.get("route")
        # `route = { private = true }` is not reachable over HTTP.
        if isinstance(route, str):
            manifest.routes[route] = trigger.get("component")
    return manifest


def load(path: Path = SPIN_TOML) -> SpinManifest:
    return parse(path.read_text())


def _segments(path: str) -> list[str]:
    return [s for s in path.strip("/").split("/") if s != ""]


def route_matches(route: str, path: str) -> bool:
    """Spin's HTTP route matching: literal segments, `:name` parameters (one
    segment each) and a trailing `/...` wildcard."""
    r, p = _segments(route), _segments(path)
    if r and r[-1] == "...":
        r = r[:-1]
        if len(p) < len(r):
            return False
        p = p[: len(r)]
    if len(r) != len(p):
        return False
    return all(rs.startswith(":") or rs == ps for rs, ps in zip(r, p))


def component_for(manifest: SpinManifest, path: str, *, exact: bool) -> str | None:
    """The component serving `path`. With exact=True only a literal route
    (no parameter, no wildcard) equal to the path counts, as a readiness
    probe should name one precise route."""
    if exact:
        route = manifest.routes.get(path)
        if route is None or ":" in path or path.endswith("/..."):
            return None
        return route
    if path in manifest.routes:
        return manifest.routes[path]
    for route, component in manifest.routes.items():
        if route_matches(route, path):
            return component
    return None
