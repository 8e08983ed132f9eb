"""runtime-config.toml as Spin 3.6.3 reads it (`spin up --runtime-config-file`,
and the shim from a SpinApp's runtime config Secret).

Spin 3.6.3 rejects a file with a top-level key that no part of it reads
(crates/factors/src/runtime_config/toml.rs, TomlKeyTracker; checked in
crates/runtime-config/src/lib.rs, `validate_all_keys_used`). The keys read,
and by whom (all paths at tag v3.6.3 of spinframework/spin):

- state_dir, log_dir, max_instance_memory: crates/runtime-config/src/lib.rs
- key_value_store.<label>.type: spin | redis | azure_cosmos | aws_dynamo
  (crates/factor-key-value/src/runtime_config/spin.rs, crates/key-value-*)
- sqlite_database.<label>.type: spin | libsql (crates/sqlite/src/lib.rs)
- llm_compute.type: spin | remote_http (crates/factor-llm/src/spin.rs)
- variables_provider, or else config_provider: [[...]] with type
  static | env | vault | azure_key_vault (crates/runtime-config/src/variables.rs);
  config_provider is read only when variables_provider is absent
- outbound_networking.block_networks, [[client_tls]] (deny_unknown_fields;
  crates/factor-outbound-networking/src/runtime_config/spin.rs)
- outbound_http.connection_pooling / max_concurrent_requests
  (deny_unknown_fields; crates/factor-outbound-http/src/runtime_config/spin.rs)

There is no [otel] section: the OTel factor takes no runtime config (it is
configured through OTEL_* environment variables).
"""

from __future__ import annotations

import tomllib

SCALARS = {"state_dir": str, "log_dir": str, "max_instance_memory": int}
TYPE_NAMES = {str: "a string", int: "an integer"}
LABELLED_TYPES = {
    "key_value_store": {"spin", "redis", "azure_cosmos", "aws_dynamo"},
    "sqlite_database": {"spin", "libsql"},
}
LLM_TYPES = {"spin", "remote_http"}
VARIABLE_PROVIDER_TYPES = {"static", "env", "vault", "azure_key_vault"}
CLIENT_TLS_FIELDS = {
    "component_ids",
    "hosts",
    "ca_use_webpki_roots",
    "ca_roots_file",
    "client_cert_file",
    "client_private_key_file",
}
OUTBOUND_HTTP_FIELDS = {"connection_pooling", "max_concurrent_requests"}
OUTBOUND_NETWORKING_FIELDS = {"block_networks"}
KNOWN = (
    set(SCALARS)
    | set(LABELLED_TYPES)
    | {"llm_compute", "variables_provider", "config_provider", "outbound_networking", "client_tls", "outbound_http"}
)


def check(text: str, components: set[str]) -> list[str]:
    """Problems Spin 3.6.3 would refuse to start with (or silently ignore)."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        return [f"not TOML: {err}"]
    problems = []
    for key in doc:
        if key not in KNOWN:
            problems.append(f"[{key}] is not a key Spin 3.6 reads (it refuses unused keys)")

    for key, kind in SCALARS.items():
        if key in doc and not isinstance(doc[key], kind):
            problems.append(f"{key} must be {TYPE_NAMES[kind]}")

    for key, types in LABELLED_TYPES.items():
        tables = doc.get(key, {})
        if not isinstance(tables, dict):
            problems.append(f"{key} must be tables [{key}.<label>]")
            continue
        for label, table in tables.items():
            if not isinstance(table, dict) or table.get("type") not in types:
                problems.append(f"[{key}.{label}] type must be one of {sorted(types)}")

    if "llm_compute" in doc:
        llm = doc["llm_compute"]
        if not isinstance(llm, dict) or llm.get("type") not in LLM_TYPES:
            problems.append(f"[llm_compute] type must be one of {sorted(LLM_TYPES)}")

    if "variables_provider" in doc and "config_provider" in doc:
        problems.append("config_provider is ignored (and so refused) when variables_provider is present")
    for key in ("variables_provider", "config_provider"):
        providers = doc.get(key, [])
        if not isinstance(providers, list):
            problems.append(f"{key} must be an array of tables [[{key}]]")
            continue
        for provider in providers:
            if not isinstance(provider, dict) or provider.get("type") not in VARIABLE_PROVIDER_TYPES:
                problems.append(f"[[{key}]] type must be one of {sorted(VARIABLE_PROVIDER_TYPES)}")

    for key, fields in (("outbound_http", OUTBOUND_HTTP_FIELDS), ("outbound_networking", OUTBOUND_NETWORKING_FIELDS)):
        table = doc.get(key, {})
        if not isinstance(table, dict):
            problems.append(f"{key} must be a table")
            continue
        for field in set(table) - fields:
            problems.append(f"[{key}] has unknown field {field!r}")

    client_tls = doc.get("client_tls", [])
    if not isinstance(client_tls, list):
        problems.append("client_tls must be an array of tables [[client_tls]]")
        client_tls = []
    for entry in client_tls:
        if not isinstance(entry, dict):
            problems.append("[[client_tls]] entries must be tables")
            continue
        for field in set(entry) - CLIENT_TLS_FIELDS:
            problems.append(f"[[client_tls]] has unknown field {field!r}")
        ids = entry.get("component_ids") or []
        if not ids or not entry.get("hosts"):
            problems.append("[[client_tls]] needs non-empty component_ids and hosts")
        for component in ids:
            if component not in components:
                problems.append(f"[[client_tls]] component {component!r} is not in spin.toml")
    return problems
