"""k8s/base/migrations must be an exact copy of migrations/ (made by
k8s/sync-migrations.sh): kustomize cannot read files outside its root
without a flag every user would have to pass, so the Job's ConfigMap is
generated from the copy, and this check keeps the copy honest."""

from __future__ import annotations

from pathlib import Path

import yaml


def expected_files(src: Path) -> list[str]:
    names = sorted(p.name for p in src.glob("[0-9][0-9][0-9][0-9]_*.sql"))
    return (["migrate.sh"] if (src / "migrate.sh").is_file() else []) + names


def check_copy(src: Path, dst: Path) -> list[str]:
    problems = []
    want = expected_files(src)
    have = sorted(p.name for p in dst.iterdir() if p.is_file() and p.name != "kustomization.yaml")
    for name in sorted(set(want) - set(have)):
        problems.append(f"{name} is missing from {dst.name}/ (run k8s/sync-migrations.sh)")
    for name in sorted(set(have) - set(want)):
        problems.append(f"{name} is in {dst.name}/ but not in migrations/ (run k8s/sync-migrations.sh)")
    for name in sorted(set(want) & set(have)):
        if (src / name).read_bytes() != (dst / name).read_bytes():
            problems.append(f"{name} differs from migrations/{name} (run k8s/sync-migrations.sh)")
    kustomization = yaml.safe_load((dst / "kustomization.yaml").read_text())
    generators = kustomization.get("configMapGenerator") or [{}]
    listed = generators[0].get("files") or []
    if sorted(listed) != sorted(want):
        problems.append(f"kustomization.yaml lists {listed}, expected {want} (run k8s/sync-migrations.sh)")
    return problems
