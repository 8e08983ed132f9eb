"""Cross-checks a schema cannot see: between the rendered objects, spin.toml
and the facts of Spin 3.6 / spin-operator 0.6 / Dapr 1.18 that bite.

Every check takes the rendered objects of one overlay (plus what it needs)
and returns a list of problems, empty when all is well, so a test can show
both that the real manifests pass and that a broken copy is reported.
"""

from __future__ import annotations

from collections import defaultdict

from . import spin as spinlib
from .render import describe

DAPR = "dapr.io/"
# The route Prometheus scrapes (CONTRACT.md, section 10).
METRICS_PATH = "/metrics"
# The services whose subscriptions /dapr/subscribe lists (CONTRACT.md, 5).
CONSUMERS = ("notification", "recurrence")
# Variables the platform fills in: the sidecar injects DAPR_HTTP_PORT and the
# shim copies it into `dapr_http_port`; a value set here would win over the
# sidecar's real port.
PLATFORM_VARIABLES = {"dapr_http_port"}
# Dapr's token annotations and the Spin variable each must feed.
TOKEN_ANNOTATIONS = {
    "dapr.io/app-token-secret": "app_api_token",
    "dapr.io/api-token-secret": "dapr_api_token",
}


# --- helpers ------------------------------------------------------------------


def of_kind(objs, kind):
    return [o for o in objs if o.get("kind") == kind]


def spinapps(objs):
    return of_kind(objs, "SpinApp")


def pod_annotations(app):
    return (app.get("spec") or {}).get("podAnnotations") or {}


def dapr_enabled(app):
    return pod_annotations(app).get("dapr.io/enabled") == "true"


def app_id(app):
    return pod_annotations(app).get("dapr.io/app-id")


def variables(app):
    return {v.get("name"): v for v in (app.get("spec") or {}).get("variables") or []}


def components_run(app, manifest):
    """Selective deployment: spec.components, or every component."""
    listed = (app.get("spec") or {}).get("components")
    return set(listed) if listed else set(manifest.components)


def literal(app, name, manifest):
    """The value a variable has in this SpinApp when it is a literal (or left
    to spin.toml's default); None when it comes from a Secret/ConfigMap."""
    var = variables(app).get(name)
    if var is None:
        return manifest.default(name)
    return var.get("value") if "valueFrom" not in var else None


def in_scope(resource, an_app_id):
    scopes = resource.get("scopes") or []
    return not scopes or an_app_id in scopes


def component_metadata(component):
    return {m.get("name"): m.get("value") for m in (component.get("spec") or {}).get("metadata") or []}


def namespace_of(obj):
    return (obj.get("metadata") or {}).get("namespace") or "default"


# --- variables ----------------------------------------------------------------


def check_variables_declared(objs, manifest):
    """Every variable a SpinApp sets is declared in spin.toml (the shim
    ignores, silently, a SPIN_VARIABLE_* nobody declared), once, and none is
    one the platform fills in."""
    problems = []
    for app in spinapps(objs):
        seen = set()
        for var in (app.get("spec") or {}).get("variables") or []:
            name = var.get("name")
            if name not in manifest.variables:
                problems.append(f"{describe(app)}: variable {name!r} is not declared in spin.toml")
            if name in seen:
                problems.append(f"{describe(app)}: variable {name!r} is set twice")
            if name in PLATFORM_VARIABLES:
                problems.append(
                    f"{describe(app)}: variable {name!r} must not be set: the Dapr sidecar's "
                    "injected DAPR_HTTP_PORT reaches it"
                )
            seen.add(name)
    return problems


def check_required_variables_set(objs, manifest):
    """Every variable spin.toml declares required (no default) is set, and
    not to an empty literal."""
    problems = []
    required = [v.name for v in manifest.variables.values() if v.required and v.default is None]
    for app in spinapps(objs):
        vars_ = variables(app)
        for name in required:
            var = vars_.get(name)
            if var is None:
                problems.append(f"{describe(app)}: required variable {name!r} is not set")
            elif "valueFrom" not in var and not var.get("value"):
                problems.append(f"{describe(app)}: required variable {name!r} is empty")
    return problems


# --- components and routes ------------------------------------------------------


def check_components_exist(objs, manifest):
    """Every spec.components entry is a component of spin.toml."""
    problems = []
    for app in spinapps(objs):
        for name in (app.get("spec") or {}).get("components") or []:
            if name not in manifest.components:
                problems.append(f"{describe(app)}: component {name!r} is not in spin.toml")
    return problems


def _served(manifest, path, app, *, exact):
    """Problem with a probe path, or None when the app serves it."""
    if path == spinlib.SPIN_HEALTH:
        return None
    component = spinlib.component_for(manifest, path, exact=exact)
    if component is None:
        kind = "an exact route" if exact else "a route"
        return f"{path!r} is not {kind} of spin.toml"
    if component not in components_run(app, manifest):
        return f"{path!r} is served by component {component!r}, which this SpinApp does not run"
    return None


def check_probes(objs, manifest):
    """Liveness and readiness are set and name routes the SpinApp serves;
    readiness (and Dapr's app health check) an exact route."""
    problems = []
    for app in spinapps(objs):
        checks = (app.get("spec") or {}).get("checks") or {}
        for probe, exact in (("liveness", False), ("readiness", True)):
            path = ((checks.get(probe) or {}).get("httpGet") or {}).get("path")
            if not path:
                problems.append(f"{describe(app)}: no {probe} probe")
                continue
            problem = _served(manifest, path, app, exact=exact)
            if problem:
                problems.append(f"{describe(app)}: {probe} probe {problem}")
        annotations = pod_annotations(app)
        if annotations.get("dapr.io/enable-app-health-check") == "true":
            path = annotations.get("dapr.io/app-health-check-path")
            if not path:
                # Dapr would probe /healthz, which spin.toml does not route.
                problems.append(f"{describe(app)}: Dapr app health check without app-health-check-path")
            else:
                problem = _served(manifest, path, app, exact=True)
                if problem:
                    problems.append(f"{describe(app)}: Dapr app health check path {problem}")
    return problems


def check_metrics_scraped(objs, manifest):
    """Every SpinApp runs the component serving GET /metrics (CONTRACT.md,
    section 10: each pod of a split deployment can be scraped) and carries
    Prometheus' scrape annotations on the pod, naming that route and the
    shim's port."""
    problems = []
    for app in spinapps(objs):
        problem = _served(manifest, METRICS_PATH, app, exact=True)
        if problem:
            problems.append(f"{describe(app)}: {problem}")
        annotations = pod_annotations(app)
        for key, want in (("prometheus.io/scrape", "true"), ("prometheus.io/port", "80"),
                          ("prometheus.io/path", METRICS_PATH)):
            if annotations.get(key) != want:
                problems.append(
                    f"{describe(app)}: spec.podAnnotations {key} must be {want!r} (got {annotations.get(key)!r})")
    return problems


# --- Dapr ----------------------------------------------------------------------


def check_dapr_annotations(objs):
    """Dapr annotations are pod annotations (spec.podAnnotations): on the
    SpinApp's metadata, the Deployment or the Service they never reach the
    pod, and no sidecar is injected."""
    problems = []
    for app in spinapps(objs):
        spec = app.get("spec") or {}
        elsewhere = {
            "metadata.annotations": (app.get("metadata") or {}).get("annotations") or {},
            "spec.deploymentAnnotations": spec.get("deploymentAnnotations") or {},
            "spec.serviceAnnotations": spec.get("serviceAnnotations") or {},
        }
        for where, annotations in elsewhere.items():
            for key in annotations:
                if key.startswith(DAPR):
                    problems.append(f"{describe(app)}: {key} is in {where}; it belongs in spec.podAnnotations")
        annotations = pod_annotations(app)
        if not dapr_enabled(app):
            problems.append(f"{describe(app)}: spec.podAnnotations lacks dapr.io/enabled: \"true\"")
            continue
        if not app_id(app):
            problems.append(f"{describe(app)}: spec.podAnnotations lacks dapr.io/app-id")
        if annotations.get("dapr.io/app-port") != "80":
            problems.append(f"{describe(app)}: dapr.io/app-port must be \"80\" (the shim's port)")
    return problems


def check_app_ids_unique(objs):
    problems = []
    owners = defaultdict(list)
    for app in spinapps(objs):
        if app_id(app):
            owners[app_id(app)].append(describe(app))
    for an_app_id, apps in owners.items():
        if len(apps) > 1:
            problems.append(f"Dapr app-id {an_app_id!r} is used by {', '.join(apps)}")
    return problems


def consumer_group(component, an_app_id, namespace):
    """(group, problem) as Dapr resolves a Kafka component's consumer group
    for one app-id: consumerGroup, else consumerID, else the app-id;
    {appID} is the app-id and {namespace} is `<namespace>.<appID>`."""
    md = component_metadata(component)
    group = md.get("consumerGroup") or md.get("consumerID") or "{appID}"
    group = str(group)
    if "{uuid}" in group or "{podName}" in group:
        return None, (
            f"consumer group {group!r} differs per pod: every replica would get every event"
        )
    group = group.replace("{namespace}", f"{namespace}.{an_app_id}").replace("{appID}", an_app_id)
    return group, None


def check_consumer_groups(objs):
    """Each Dapr app-id consumes through its own Kafka consumer group, shared
    by its replicas: two app-ids in one group would each get only part of the
    events."""
    problems = []
    for component in of_kind(objs, "Component"):
        if not (component.get("spec") or {}).get("type", "").startswith("pubsub.kafka"):
            continue
        users = defaultdict(list)
        for app in spinapps(objs):
            if not (dapr_enabled(app) and app_id(app) and in_scope(component, app_id(app))):
                continue
            group, problem = consumer_group(component, app_id(app), namespace_of(app))
            if problem:
                problems.append(f"{describe(component)} for {app_id(app)}: {problem}")
            else:
                users[group].append(app_id(app))
        for group, ids in users.items():
            if len(ids) > 1:
                problems.append(
                    f"{describe(component)}: app-ids {', '.join(sorted(ids))} share consumer group {group!r}"
                )
    return problems


def check_tokens(objs):
    """The Secret Dapr uses for a token annotation is the one the matching
    Spin variable reads (key `token`, the key Dapr reads), and a token
    variable set from a Secret has its annotation (else Dapr never sends or
    expects it and every call fails with 401)."""
    problems = []
    for app in spinapps(objs):
        annotations = pod_annotations(app)
        vars_ = variables(app)
        for annotation, variable in TOKEN_ANNOTATIONS.items():
            secret = annotations.get(annotation)
            ref = ((vars_.get(variable) or {}).get("valueFrom") or {}).get("secretKeyRef") or {}
            if secret:
                if ref.get("name") != secret or ref.get("key") != "token":
                    problems.append(
                        f"{describe(app)}: {annotation} is {secret!r} but variable {variable!r} "
                        f"does not read key 'token' of that Secret"
                    )
            elif ref:
                problems.append(f"{describe(app)}: variable {variable!r} is set but {annotation} is not")
    return problems


def check_dapr_wiring(objs, manifest):
    """The Dapr resources fit the apps: the pub/sub the app publishes to
    exists for its app-id, /dapr/subscribe is served and lists exactly the
    consumers the SpinApp runs, the config exists, the outbox binding reaches
    exactly the apps that serve its route, inbound retries are bounded, and
    subscriptions are programmatic only."""
    problems = []
    apps = [a for a in spinapps(objs) if dapr_enabled(a) and app_id(a)]
    ids = {app_id(a) for a in apps}
    components = of_kind(objs, "Component")
    configurations = {(o.get("metadata") or {}).get("name") for o in of_kind(objs, "Configuration")}

    for resource in components + of_kind(objs, "Resiliency"):
        scopes = resource.get("scopes") or []
        if not scopes:
            problems.append(f"{describe(resource)}: no scopes: every Dapr app in the namespace would load it")
        for scope in scopes:
            if scope not in ids:
                problems.append(f"{describe(resource)}: scope {scope!r} is no app-id of this deployment")

    for sub in of_kind(objs, "Subscription"):
        problems.append(
            f"{describe(sub)}: declarative Subscription; the app's GET /dapr/subscribe is the only "
            "source (both would deliver every event twice)"
        )

    for app in apps:
        an_app_id = app_id(app)
        run = components_run(app, manifest)
        config = pod_annotations(app).get("dapr.io/config")
        if config and config not in configurations:
            problems.append(f"{describe(app)}: dapr.io/config {config!r} is not a rendered Configuration")

        pubsub = literal(app, "pubsub_name", manifest)
        pubsubs = [
            c for c in components
            if (c.get("spec") or {}).get("type", "").startswith("pubsub.") and in_scope(c, an_app_id)
        ]
        if pubsub is not None and pubsub not in {(c.get("metadata") or {}).get("name") for c in pubsubs}:
            problems.append(f"{describe(app)}: pubsub_name {pubsub!r} is no pub/sub Component for {an_app_id}")

        consumers = sorted(run & set(CONSUMERS))
        listed = literal(app, "dapr_services", manifest)
        if listed is not None and sorted(s.strip() for s in listed.split(",") if s.strip()) != consumers:
            problems.append(
                f"{describe(app)}: dapr_services {listed!r} does not match the consumers it runs {consumers}"
            )
        if consumers and spinlib.component_for(manifest, "/dapr/subscribe", exact=True) not in run:
            problems.append(f"{describe(app)}: does not run the component serving /dapr/subscribe")

        resiliencies = [r for r in of_kind(objs, "Resiliency") if in_scope(r, an_app_id)]
        for c in pubsubs:
            name = (c.get("metadata") or {}).get("name")
            if not any(_bounded_inbound_retry(r, name) for r in resiliencies):
                problems.append(
                    f"{describe(app)}: no Resiliency with a bounded inbound retry for pub/sub {name!r}"
                )

    for binding in components:
        spec = binding.get("spec") or {}
        if not spec.get("type", "").startswith("bindings."):
            continue
        name = (binding.get("metadata") or {}).get("name")
        # Dapr calls the binding's `route` metadata, by default /<name>.
        route = component_metadata(binding).get("route") or "/" + name
        serving = spinlib.component_for(manifest, route, exact=True)
        if component_metadata(binding).get("direction") != "input":
            problems.append(f"{describe(binding)}: direction must be 'input'")
        if serving is None:
            problems.append(f"{describe(binding)}: spin.toml has no route {route}")
            continue
        for app in apps:
            serves = serving in components_run(app, manifest)
            scoped = in_scope(binding, app_id(app))
            if scoped and not serves:
                problems.append(f"{describe(binding)}: scoped to {app_id(app)}, which does not serve {route}")
            if serves and not scoped:
                problems.append(f"{describe(binding)}: {app_id(app)} serves {route} but is not in its scopes")
    return problems


# Retention (CONTRACT.md, section 6): the cron binding, its route, and the
# variables of the component serving it, with the bounds the app accepts
# (crates/scheduler-core/src/retention.rs).
RETENTION_BINDING = "retention"
RETENTION_ROUTE = "/retention/prune"
RETENTION_VARIABLES = {"retention_days": (0, 36_500), "retention_batch": (1, 100_000)}


def _value(app, name, manifest, maps):
    """A variable's value in this SpinApp: literal, spin.toml default, or
    the ConfigMap key it reads (None when from a Secret or missing)."""
    var = variables(app).get(name)
    if var is None:
        return manifest.default(name)
    ref = (var.get("valueFrom") or {}).get("configMapKeyRef")
    if ref:
        return (maps.get(ref.get("name")) or {}).get(ref.get("key"))
    return var.get("value")


def check_retention(objs, manifest):
    """Every deployment prunes: one `retention` cron binding calling
    /retention/prune, an input with a schedule, and every SpinApp that
    runs the component serving that route sets retention_days and
    retention_batch (from the ConfigMap) to values the app accepts."""
    problems = []
    bindings = [c for c in of_kind(objs, "Component") if (c.get("metadata") or {}).get("name") == RETENTION_BINDING]
    if len(bindings) != 1:
        return [f"expected one Component {RETENTION_BINDING!r}, found {len(bindings)}"]
    [binding] = bindings
    spec = binding.get("spec") or {}
    meta = component_metadata(binding)
    if spec.get("type") != "bindings.cron":
        problems.append(f"{describe(binding)}: type must be 'bindings.cron' (got {spec.get('type')!r})")
    if not meta.get("schedule"):
        problems.append(f"{describe(binding)}: no schedule")
    if meta.get("route") != RETENTION_ROUTE:
        problems.append(f"{describe(binding)}: route must be {RETENTION_ROUTE!r} (got {meta.get('route')!r})")
    serving = spinlib.component_for(manifest, RETENTION_ROUTE, exact=True)
    if serving is None:
        return problems + [f"spin.toml has no route {RETENTION_ROUTE}"]
    maps = {(o.get("metadata") or {}).get("name"): o.get("data") or {} for o in of_kind(objs, "ConfigMap")}
    pruning = [a for a in spinapps(objs) if serving in components_run(a, manifest)]
    if not pruning:
        problems.append(f"no SpinApp runs {serving!r}, which serves {RETENTION_ROUTE}")
    for app in pruning:
        for name, (low, high) in RETENTION_VARIABLES.items():
            if name not in variables(app):
                problems.append(f"{describe(app)}: runs {serving!r} but does not set {name}")
                continue
            value = _value(app, name, manifest, maps)
            if value is None or not value.strip().isdigit() or not low <= int(value) <= high:
                problems.append(f"{describe(app)}: {name} is {value!r}, not an integer from {low} to {high}")
    return problems


def _bounded_inbound_retry(resiliency, component):
    spec = resiliency.get("spec") or {}
    target = ((spec.get("targets") or {}).get("components") or {}).get(component) or {}
    retry_name = (target.get("inbound") or {}).get("retry")
    retry = ((spec.get("policies") or {}).get("retries") or {}).get(retry_name)
    if not retry:
        return False
    max_retries = retry.get("maxRetries")
    if not isinstance(max_retries, int) or max_retries < 0:
        return False
    if retry.get("policy") == "exponential" and not retry.get("maxInterval"):
        return False
    return True


# --- deployment hygiene ----------------------------------------------------------


def check_replicas(objs):
    """spin-operator has no default for replicas: set it, >= 1, unless the
    SpinApp autoscales."""
    problems = []
    for app in spinapps(objs):
        spec = app.get("spec") or {}
        if spec.get("enableAutoscaling"):
            continue
        replicas = spec.get("replicas")
        if not isinstance(replicas, int) or replicas < 1:
            problems.append(f"{describe(app)}: replicas must be set to >= 1 (got {replicas!r})")
    return problems


def _secret_refs(objs):
    """(where, secret, key, optional) for every Secret reference."""
    refs = []
    for app in spinapps(objs):
        for var in (app.get("spec") or {}).get("variables") or []:
            ref = (var.get("valueFrom") or {}).get("secretKeyRef")
            if ref:
                refs.append((f"{describe(app)} variable {var.get('name')}", ref.get("name"), ref.get("key"),
                             bool(ref.get("optional"))))
        for annotation in TOKEN_ANNOTATIONS:
            if pod_annotations(app).get(annotation):
                refs.append((f"{describe(app)} {annotation}", pod_annotations(app)[annotation], "token", False))
    for job in of_kind(objs, "Job"):
        pod = ((job.get("spec") or {}).get("template") or {}).get("spec") or {}
        for container in pod.get("containers", []) + pod.get("initContainers", []):
            for env in container.get("env") or []:
                ref = (env.get("valueFrom") or {}).get("secretKeyRef")
                if ref:
                    refs.append((f"{describe(job)} env {env.get('name')}", ref.get("name"), ref.get("key"),
                                 bool(ref.get("optional"))))
    for component in of_kind(objs, "Component"):
        for item in (component.get("spec") or {}).get("metadata") or []:
            ref = item.get("secretKeyRef")
            if ref:
                refs.append((f"{describe(component)} {item.get('name')}", ref.get("name"), ref.get("key"), False))
    return refs


def check_secret_refs(objs, example_secrets):
    """Every Secret key the manifests read is in the example Secret manifest,
    so a user who fills in k8s/secret.example.yaml misses nothing."""
    have = {
        ((s.get("metadata") or {}).get("name"), key)
        for s in example_secrets
        for key in list((s.get("stringData") or {})) + list((s.get("data") or {}))
    }
    problems = []
    for where, name, key, _optional in _secret_refs(objs):
        if (name, key) not in have:
            problems.append(f"{where}: Secret {name!r} key {key!r} is not in k8s/secret.example.yaml")
    return problems


def check_example_secrets_are_placeholders(example_secrets, allowed_plain=("database_host", "username")):
    """The example holds no real secret: every value is a visible placeholder
    (apart from a few non-secret keys kept for readability)."""
    problems = []
    for secret in example_secrets:
        if secret.get("data"):
            problems.append(f"{describe(secret)}: use stringData with placeholders, not data")
        for key, value in (secret.get("stringData") or {}).items():
            if key not in allowed_plain and "REPLACE_ME" not in str(value):
                problems.append(f"{describe(secret)}: {key} is not a REPLACE_ME placeholder")
    return problems


def check_config_refs(objs):
    """Every ConfigMap key a SpinApp reads exists in the rendered ConfigMap."""
    maps = {(o.get("metadata") or {}).get("name"): o.get("data") or {} for o in of_kind(objs, "ConfigMap")}
    problems = []
    for app in spinapps(objs):
        for var in (app.get("spec") or {}).get("variables") or []:
            ref = (var.get("valueFrom") or {}).get("configMapKeyRef")
            if not ref:
                continue
            name, key = ref.get("name"), ref.get("key")
            if name not in maps:
                problems.append(f"{describe(app)} variable {var.get('name')}: no ConfigMap {name!r}")
            elif key not in maps[name] and not ref.get("optional"):
                problems.append(f"{describe(app)} variable {var.get('name')}: ConfigMap {name!r} has no key {key!r}")
    return problems


def check_migration_job(objs):
    """The migration Job runs a script from its mounted ConfigMap, which
    holds that script and SQL migrations."""
    problems = []
    maps = {(o.get("metadata") or {}).get("name"): o.get("data") or {} for o in of_kind(objs, "ConfigMap")}
    jobs = of_kind(objs, "Job")
    if not jobs:
        return ["no migration Job"]
    for job in jobs:
        pod = job["spec"]["template"]["spec"]
        volumes = {v["name"]: (v.get("configMap") or {}).get("name") for v in pod.get("volumes") or []}
        for container in pod.get("containers") or []:
            mounts = {m["mountPath"].rstrip("/"): volumes.get(m["name"]) for m in container.get("volumeMounts") or []}
            files = [
                a.rpartition("/")
                for a in (container.get("command") or []) + (container.get("args") or [])
                if a.rpartition("/")[0] in mounts
            ]
            if not files:
                problems.append(f"{describe(job)}: {container['name']} runs no file from a mounted ConfigMap")
            for folder, _, filename in files:
                data = maps.get(mounts[folder])
                if data is None:
                    problems.append(f"{describe(job)}: {folder} is not a rendered ConfigMap")
                elif filename not in data:
                    problems.append(f"{describe(job)}: ConfigMap {mounts[folder]!r} has no {filename}")
                elif not any(k.endswith(".sql") for k in data):
                    problems.append(f"{describe(job)}: ConfigMap {mounts[folder]!r} has no .sql migration")
    return problems


ALL_OVERLAY_CHECKS = {
    "variables_declared": lambda objs, m, s: check_variables_declared(objs, m),
    "required_variables_set": lambda objs, m, s: check_required_variables_set(objs, m),
    "components_exist": lambda objs, m, s: check_components_exist(objs, m),
    "probes": lambda objs, m, s: check_probes(objs, m),
    "metrics_scraped": lambda objs, m, s: check_metrics_scraped(objs, m),
    "dapr_annotations": lambda objs, m, s: check_dapr_annotations(objs),
    "app_ids_unique": lambda objs, m, s: check_app_ids_unique(objs),
    "consumer_groups": lambda objs, m, s: check_consumer_groups(objs),
    "tokens": lambda objs, m, s: check_tokens(objs),
    "dapr_wiring": lambda objs, m, s: check_dapr_wiring(objs, m),
    "retention": lambda objs, m, s: check_retention(objs, m),
    "replicas": lambda objs, m, s: check_replicas(objs),
    "secret_refs": lambda objs, m, s: check_secret_refs(objs, s),
    "config_refs": lambda objs, m, s: check_config_refs(objs),
    "migration_job": lambda objs, m, s: check_migration_job(objs),
}
