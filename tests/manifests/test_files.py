"""Checks on files rather than rendered objects: runtime-config.toml against
what Spin 3.6.3 accepts, the example Secrets, the migrations copy that feeds
the migration Job."""

from __future__ import annotations

import shutil

import pytest

from mcheck import checks, migrations, render, runtime_config
from mcheck.spin import ROOT

RUNTIME_CONFIG = ROOT / "runtime-config.toml"


def test_runtime_config_has_only_keys_spin_accepts(manifest):
    if not RUNTIME_CONFIG.exists():
        pytest.skip("no runtime-config.toml at the repository root")
    assert runtime_config.check(RUNTIME_CONFIG.read_text(), manifest.components) == []


VALID_RUNTIME_CONFIG = """
state_dir = ".spin"
max_instance_memory = 134217728
[key_value_store.default]
type = "spin"
[sqlite_database.default]
type = "libsql"
url = "https://example.invalid"
token = "x"
[llm_compute]
type = "remote_http"
url = "http://localhost:1"
auth_token = "x"
[[variables_provider]]
type = "env"
[outbound_networking]
block_networks = ["private"]
[outbound_http]
connection_pooling = true
max_concurrent_requests = 8
[[client_tls]]
component_ids = ["notification"]
hosts = ["api.resend.com"]
ca_use_webpki_roots = true
"""


def test_every_key_spin_accepts_passes(manifest):
    assert runtime_config.check(VALID_RUNTIME_CONFIG, manifest.components) == []


BROKEN_RUNTIME_CONFIG = {
    "[otel] (no such section)": ("[otel]\nendpoint = 'http://collector:4318'\n", "[otel] is not a key"),
    "misspelt section": ("[key_value_stores.default]\ntype = 'spin'\n", "[key_value_stores] is not a key"),
    "unknown store type": ("[key_value_store.cache]\ntype = 'memcached'\n", "[key_value_store.cache] type must be"),
    "unknown database type": ("[sqlite_database.default]\ntype = 'postgres'\n", "[sqlite_database.default] type must be"),
    "unknown llm type": ("[llm_compute]\ntype = 'openai'\n", "[llm_compute] type must be"),
    "both provider keys": (
        "[[variables_provider]]\ntype = 'env'\n[[config_provider]]\ntype = 'env'\n", "config_provider is ignored"),
    "unknown provider type": ("[[variables_provider]]\ntype = 'dotenv'\n", "[[variables_provider]] type must be"),
    "unknown outbound_http field": ("[outbound_http]\nmax_requests = 4\n", "[outbound_http] has unknown field 'max_requests'"),
    "unknown client_tls field": (
        "[[client_tls]]\ncomponent_ids = ['notification']\nhosts = ['a.example:443']\nca_file = 'ca.pem'\n",
        "[[client_tls]] has unknown field 'ca_file'"),
    "client_tls for no component": (
        "[[client_tls]]\ncomponent_ids = ['notifications']\nhosts = ['a.example:443']\n",
        "[[client_tls]] component 'notifications' is not in spin.toml"),
    "wrong scalar type": ("max_instance_memory = '128MiB'\n", "max_instance_memory must be an integer"),
    "not TOML": ("[key_value_store.default\n", "not TOML"),
}


@pytest.mark.parametrize("case", sorted(BROKEN_RUNTIME_CONFIG))
def test_broken_runtime_config_is_reported(case, manifest):
    text, expected = BROKEN_RUNTIME_CONFIG[case]
    problems = runtime_config.check(text, manifest.components)
    assert any(expected in p for p in problems), problems


def test_example_secrets_hold_only_placeholders(example_secrets):
    assert checks.check_example_secrets_are_placeholders(example_secrets) == []


def test_a_real_looking_secret_is_reported(example_secrets):
    db = next(s for s in example_secrets if s["metadata"]["name"] == "todo-workers-db")
    db["stringData"]["database_url"] = "postgres://todo:hunter2@db.prod:5432/todo"
    problems = checks.check_example_secrets_are_placeholders(example_secrets)
    assert problems == ["Secret/todo-workers-db: database_url is not a REPLACE_ME placeholder"]


def test_example_secrets_are_in_no_kustomization():
    # Applying placeholders over the real Secrets would break the deployment.
    for kustomization in render.K8S.rglob("kustomization.yaml"):
        assert "secret.example.yaml" not in kustomization.read_text(), kustomization


def test_migrations_copy_matches_migrations():
    problems = migrations.check_copy(ROOT / "migrations", render.K8S / "base" / "migrations")
    assert problems == []


def test_stale_migrations_copy_is_reported(tmp_path):
    src, dst = tmp_path / "migrations", tmp_path / "copy"
    shutil.copytree(ROOT / "migrations", src)
    shutil.copytree(render.K8S / "base" / "migrations", dst)
    (src / "9999_new.sql").write_text("SELECT 1;\n")
    sql = sorted(dst.glob("*.sql"))[0]
    sql.write_text(sql.read_text() + "-- edited in the copy only\n")
    problems = migrations.check_copy(src, dst)
    assert "9999_new.sql is missing from copy/ (run k8s/sync-migrations.sh)" in problems
    assert f"{sql.name} differs from migrations/{sql.name} (run k8s/sync-migrations.sh)" in problems
    assert any(p.startswith("kustomization.yaml lists") for p in problems)
