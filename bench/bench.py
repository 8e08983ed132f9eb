#!/usr/bin/env python3
"""Throughput, latency and cost per event of the release app under `spin up`.

Started by bench/run.sh (which installs wrk/nginx and builds the components).
Starts a throwaway PostgreSQL 15 (fsync on, pg_stat_statements), nginx
answering at once as the Dapr sidecar, Resend, FCM and Google's token
endpoint, and the app under the real Spin CLI; drives each route with wrk
(bench/wrk.lua) at each concurrency and prints per point: requests/s,
latency percentiles, CPU ms per event of Spin's and PostgreSQL's process
trees (/proc), SQL statements per event (pg_stat_statements) and the ratio to
the floor (GET /recurrence/readyz) at the same concurrency. Results:
bench/results/<UTC timestamp>.json. Python 3.11, stdlib only.
"""
import argparse
import datetime
import hashlib
import json
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
PG_BIN = os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")
SPIN = os.environ.get("SPIN_BIN") or os.path.join(ROOT, "target/tools/spin")
ROUTES = ["readyz", "reminder", "task", "bulk_task", "bulk_reminder"]
LABEL = {
    "readyz": "GET /recurrence/readyz (floor)",
    "reminder": "reminder.due, e-mail + push",
    "task": "task.completed (weekly)",
    "bulk_task": "bulk: 100 task.completed",
    "bulk_reminder": "bulk: 100 reminder.due",
}
BATCH = 100
# What deadpool-postgres RecyclingMethod::Clean sends on every pool checkout.
POOL_CLEANUP = {"CLOSE ALL", "SET SESSION AUTHORIZATION DEFAULT", "RESET ALL", "UNLISTEN *",
                "SELECT pg_advisory_unlock_all()", "DISCARD TEMP", "DISCARD SEQUENCES"}
AS_PG = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
TICK_MS = 1000.0 / os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd, **kw):
    p = subprocess.run(cmd, text=True, capture_output=True, **kw)
    if p.returncode:
        sys.exit(f"failed ({p.returncode}): {' '.join(cmd)[:300]}\n{p.stderr[-2000:]}")
    return p.stdout


# ---------------------------------------------------------------- processes

def tree_cpu_ms(root_pid):
    """utime+stime (and cutime+cstime: reaped children) of root_pid and all
    its live descendants, in ms."""
    procs = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                s = f.read()
        except OSError:
            continue
        rest = s[s.rindex(")") + 2:].split()
        procs[int(d)] = (int(rest[1]), sum(int(x) for x in rest[11:15]))
    children = {}
    for pid, (ppid, _) in procs.items():
        children.setdefault(ppid, []).append(pid)
    total, todo = 0, [root_pid]
    while todo:
        pid = todo.pop()
        if pid in procs:
            total += procs[pid][1]
            todo.extend(children.get(pid, []))
    return total * TICK_MS


class Postgres:
    def __init__(self, tmp):
        self.dir = os.path.join(tmp, "pg")
        os.makedirs(self.dir)
        if AS_PG:
            shutil.chown(self.dir, "postgres")
        self.port = free_port()
        run(AS_PG + [f"{PG_BIN}/initdb", "-D", f"{self.dir}/data", "-U", "postgres", "-A", "trust"])
        opts = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=200"
                " -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track_planning=on"
                " -c pg_stat_statements.max=10000 -c fsync=on")
        run(AS_PG + [f"{PG_BIN}/pg_ctl", "-D", f"{self.dir}/data", "-l", f"{self.dir}/log", "-w",
                     "-o", opts, "start"])
        with open(f"{self.dir}/data/postmaster.pid") as f:
            self.pid = int(f.readline())
        self.psql("CREATE ROLE app LOGIN SUPERUSER", db="postgres")
        self.psql("CREATE DATABASE bench OWNER app", db="postgres")
        self.psql("CREATE EXTENSION pg_stat_statements;")
        # The app's statements are app's; the benchmark's own run as postgres.
        self.app_url = f"postgres://app@127.0.0.1:{self.port}/bench?sslmode=disable"

    def psql(self, sql, db="bench"):
        url = f"postgresql://postgres@127.0.0.1:{self.port}/{db}"
        return run([f"{PG_BIN}/psql", url, "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql])

    def stop(self):
        subprocess.run(AS_PG + [f"{PG_BIN}/pg_ctl", "-D", f"{self.dir}/data", "-m", "immediate",
                                "stop"], capture_output=True)


NGINX_CONF = """
daemon off;
worker_processes 1;
error_log {tmp}/nginx-error.log;
pid {tmp}/nginx.pid;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/nginx-body;
  proxy_temp_path {tmp}/nginx-proxy;
  fastcgi_temp_path {tmp}/nginx-fastcgi;
  uwsgi_temp_path {tmp}/nginx-uwsgi;
  scgi_temp_path {tmp}/nginx-scgi;
  keepalive_requests 10000000;
  keepalive_timeout 300s;
  client_body_buffer_size 256k;
  default_type application/json;
  server {{
    listen 127.0.0.1:{port};
    {listen6}
    # Dapr sidecar publish
    location /v1.0/publish/ {{ return 204; }}
    # Resend
    location = /emails {{ return 200 '{{"id":"$request_id"}}'; }}
    # FCM HTTP v1
    location ~ ^/v1/projects/([^/]+)/messages:send$ {{
      return 200 '{{"name":"projects/$1/messages/$request_id"}}';
    }}
    # Google OAuth2 token endpoint
    location = /token {{
      return 200 '{{"access_token":"ya29.bench","expires_in":3599,"token_type":"Bearer"}}';
    }}
    location / {{ return 404; }}
  }}
}}
"""


def start_nginx(tmp):
    port = free_port()
    listen6 = ""
    if socket.has_ipv6 and os.path.exists("/proc/net/if_inet6"):
        listen6 = f"listen [::1]:{port};"
    conf = os.path.join(tmp, "nginx.conf")
    with open(conf, "w") as f:
        f.write(NGINX_CONF.format(tmp=tmp, port=port, listen6=listen6))
    proc = subprocess.Popen(["nginx", "-c", conf, "-p", tmp], stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(tmp, "nginx.out"), "w"))
    wait_http(f"http://127.0.0.1:{port}/token", proc, method="POST")
    return proc, port


def service_account(tmp, project):
    key = os.path.join(tmp, "sa.pem")
    run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key])
    with open(key) as f:
        pem = f.read()
    email = f"bench@{project}.iam.gserviceaccount.com"
    return json.dumps({"type": "service_account", "project_id": project,
                       "private_key_id": "0123456789abcdef0123456789abcdef01234567",
                       "private_key": pem, "client_email": email,
                       "client_id": "100000000000000000001"})


def wait_http(url, proc, method="GET", timeout=120):
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            sys.exit(f"{proc.args[0]} exited ({proc.returncode}) before answering {url}")
        try:
            urllib.request.urlopen(urllib.request.Request(url, method=method, data=b"" if method == "POST" else None), timeout=2)
            return
        except Exception:
            time.sleep(0.2)
    sys.exit(f"no answer from {url} after {timeout}s")


def start_spin(tmp, src, wasm_dir, pg, fake_port):
    # A copy of the manifest whose sources are copies of the .wasm files, so
    # a rebuild in target/ during the run changes nothing.
    os.makedirs(f"{tmp}/wasm")
    with open(f"{src}/spin.toml") as f:
        manifest = f.read()
    wasm = {}
    for c in re.findall(r'source = "target/wasm32-wasip2/release/([\w-]+)\.wasm"', manifest):
        shutil.copy(f"{wasm_dir}/{c}.wasm", f"{tmp}/wasm/{c}.wasm")
        with open(f"{tmp}/wasm/{c}.wasm", "rb") as f:
            wasm[c] = hashlib.sha256(f.read()).hexdigest()[:16]
    manifest = manifest.replace('source = "target/wasm32-wasip2/release/', f'source = "{tmp}/wasm/')
    with open(f"{tmp}/spin.toml", "w") as f:
        f.write(manifest)
    port = free_port()
    base = f"http://127.0.0.1:{fake_port}"
    env = dict(os.environ, **{f"SPIN_VARIABLE_{k.upper()}": v for k, v in {
        "database_url": pg.app_url, "database_host": f"127.0.0.1:{pg.port}",
        "dapr_http_port": str(fake_port), "email_provider": "resend", "email_relay_base": base,
        "email_relay_api_key": "re_bench", "email_from": "Todo <todo@example.com>",
        "fcm_project_id": "bench-project",
        "fcm_service_account_json": service_account(tmp, "bench-project"),
        "fcm_api_base": base, "fcm_oauth_base": base}.items()})
    if os.environ.get("BENCH_SPIN_PRELOAD"):  # experiments only (bench/experiments/)
        env["LD_PRELOAD"] = os.environ["BENCH_SPIN_PRELOAD"]
    os.makedirs(f"{tmp}/spin-logs")
    proc = subprocess.Popen(
        [SPIN, "up", "--from", f"{tmp}/spin.toml", "--listen", f"127.0.0.1:{port}",
         "--runtime-config-file", f"{src}/runtime-config.toml", "--log-dir", f"{tmp}/spin-logs"],
        env=env, cwd=tmp, stdout=open(f"{tmp}/spin.out", "w"), stderr=open(f"{tmp}/spin.err", "w"))
    wait_http(f"http://127.0.0.1:{port}/.well-known/spin/health", proc)
    return proc, port, wasm


# ---------------------------------------------------------------- the points

def seed_tasks(pg, tag, threads, per_thread):
    """Completed weekly tasks, the ids wrk.lua completes (one series each)."""
    pg.psql(f"""
INSERT INTO tasks (id, user_id, title, due_at, remind_at, completed, completed_at,
                   recurrence_rule, timezone)
SELECT format('%s-0000-4000-8%s-%s', '{tag}', lpad(to_hex(t), 3, '0'), lpad(to_hex(n), 12, '0'))::uuid,
       'bench-user', 'weekly ' || n, d, d - interval '30 minutes', true, d + interval '1 hour',
       'FREQ=WEEKLY', 'Europe/Berlin'
FROM generate_series(0, {threads - 1}) t, generate_series(1, {per_thread}) n,
     (SELECT timestamptz '2026-03-02 09:00:00+01' AS d) c;
ANALYZE tasks;""")


def pg_statements(pg):
    rows = pg.psql("""
SELECT json_agg(json_build_object('query', s.query, 'calls', s.calls, 'rows', s.rows,
       'exec_ms', s.total_exec_time, 'plan_ms', s.total_plan_time, 'plans', s.plans)
       ORDER BY s.calls DESC, s.total_exec_time DESC)
FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid WHERE r.rolname = 'app';""").strip()
    return json.loads(rows) if rows else []


def settle(pid, quiet_ms=50, limit_s=20):
    """Waits until the process tree is idle (requests wrk gave up on are done)."""
    end, last = time.time() + limit_s, tree_cpu_ms(pid)
    while time.time() < end:
        time.sleep(0.5)
        now = tree_cpu_ms(pid)
        if now - last <= quiet_ms:
            return
        last = now


def run_point(args, pg, spin, port, kind, conc, index, seeded_per_thread):
    threads = min(conc, 2)
    tag = f"{index:08x}"
    env = dict(os.environ, BENCH_KIND=kind, BENCH_TAG=tag, BENCH_BATCH=str(BATCH),
               BENCH_SEEDED=str(seeded_per_thread))
    settle(spin.pid)
    pg.psql("CHECKPOINT")
    pg.psql("SELECT pg_stat_statements_reset()")
    spin0, pg0 = tree_cpu_ms(spin.pid), tree_cpu_ms(pg.pid)
    out = run(["wrk", "-t", str(threads), "-c", str(conc), "-d", f"{args.duration}s", "--timeout", "60s",
               "-s", os.path.join(BENCH, "wrk.lua"), f"http://127.0.0.1:{port}"], env=env)
    spin_ms, pg_ms = tree_cpu_ms(spin.pid) - spin0, tree_cpu_ms(pg.pid) - pg0
    w = json.loads(next(l for l in out.splitlines() if l.startswith("BENCH_JSON "))[11:])
    stmts = pg_statements(pg)
    answers = max(w["answers"], 1)
    events = answers * (BATCH if kind.startswith("bulk") else 1)
    secs = w["duration_us"] / 1e6
    app = [s for s in stmts if s["query"] not in POOL_CLEANUP]
    cleanup = [s for s in stmts if s["query"] in POOL_CLEANUP]
    checkouts = sum(s["calls"] for s in cleanup if s["query"] == "DISCARD TEMP")
    return {
        "route": kind, "label": LABEL[kind], "concurrency": conc, "threads": threads,
        "requests": w["requests"], "answers": w["answers"], "events": events,
        "requests_per_s": w["requests"] / secs, "events_per_s": events / secs,
        "p50_ms": w["p50_us"] / 1000, "p95_ms": w["p95_us"] / 1000, "p99_ms": w["p99_us"] / 1000,
        "max_ms": w["max_us"] / 1000,
        "bad_answers": w["bad"], "socket_errors": w["socket_errors"], "timeouts": w["timeouts"],
        "bad_sample": w["sample"], "reused_tasks": w["wrapped"],
        "spin_cpu_ms_per_event": spin_ms / events, "pg_cpu_ms_per_event": pg_ms / events,
        "spin_cpu_ms_per_request": spin_ms / answers, "pg_cpu_ms_per_request": pg_ms / answers,
        "sql_per_event": sum(s["calls"] for s in app) / events,
        "pool_cleanup_per_event": sum(s["calls"] for s in cleanup) / events,
        "checkouts_per_event": checkouts / events,
        "sql_exec_ms_per_event": sum(s["exec_ms"] for s in app) / events,
        "sql_plan_ms_per_event": sum(s["plan_ms"] for s in app) / events,
        "cleanup_exec_ms_per_event": sum(s["exec_ms"] for s in cleanup) / events,
        "statements": [dict(s, query=" ".join(s["query"].split())[:240]) for s in stmts[:12]],
    }


def ratios(points):
    floor = {p["concurrency"]: p for p in points if p["route"] == "readyz"}
    for p in points:
        f = floor.get(p["concurrency"])
        if f:
            p["vs_floor"] = {
                "events_per_s": p["events_per_s"] / max(f["requests_per_s"], 1e-9),
                "spin_cpu": p["spin_cpu_ms_per_event"] / max(f["spin_cpu_ms_per_event"], 1e-9),
                "pg_cpu": p["pg_cpu_ms_per_event"] / max(f["pg_cpu_ms_per_event"], 1e-9)}


def table(points):
    head = ("| route | c | req/s | events/s | p50 ms | p95 ms | p99 ms | p99/p50 | Spin CPU ms/ev "
            "| PG CPU ms/ev | SQL/ev | pool clean-up/ev | events/s vs floor | Spin CPU vs floor "
            "| PG CPU vs floor | not SUCCESS |")
    lines = [head, "|" + "---|" * head.count(" | ") + "---|"]
    for p in points:
        v = p.get("vs_floor", {})
        r = lambda k: f"{v[k]:.2f}" if k in v else ""
        lines.append(
            f"| {p['label']} | {p['concurrency']} | {p['requests_per_s']:,.1f} | {p['events_per_s']:,.0f} "
            f"| {p['p50_ms']:.1f} | {p['p95_ms']:.1f} | {p['p99_ms']:.1f} | {p['p99_ms'] / max(p['p50_ms'], 1e-9):.1f} "
            f"| {p['spin_cpu_ms_per_event']:.2f} | {p['pg_cpu_ms_per_event']:.2f} | {p['sql_per_event']:.2f} "
            f"| {p['pool_cleanup_per_event']:.2f} | {r('events_per_s')} | {r('spin_cpu')} | {r('pg_cpu')} "
            f"| {p['bad_answers'] + p['socket_errors'] + p['timeouts']} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="3 s per point instead of 20 s")
    ap.add_argument("--duration", type=int, help="seconds per point")
    ap.add_argument("--conc", default="1,8,64", help="concurrencies (default 1,8,64)")
    ap.add_argument("--routes", default=",".join(ROUTES), help=f"subset of {','.join(ROUTES)}")
    ap.add_argument("--src", default=ROOT, help="tree whose spin.toml, runtime-config and migrations are used")
    ap.add_argument("--wasm-dir", help="release .wasm files (default <src>/target/wasm32-wasip2/release)")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (logs) and print its path")
    args = ap.parse_args()
    args.duration = args.duration or (3 if args.quick else 20)
    routes = args.routes.split(",")
    wasm_dir = args.wasm_dir or f"{args.src}/target/wasm32-wasip2/release"
    tmp = tempfile.mkdtemp(prefix="todo-bench.")
    os.chmod(tmp, 0o755)
    pg = nginx = spin = None
    try:
        pg = Postgres(tmp)
        subprocess.run(["sh", f"{args.src}/migrations/migrate.sh"], check=True, capture_output=True,
                       env=dict(os.environ, DATABASE_URL=pg.app_url, PSQL=f"{PG_BIN}/psql"))
        pg.psql("INSERT INTO subscribers (user_id, email, timezone, channels) VALUES "
                "('bench-user', 'ada@example.com', 'Europe/Berlin', '{email,push}');"
                "INSERT INTO devices (token, user_id, platform) VALUES ('bench-device-token', 'bench-user', 'android');")
        nginx, fake_port = start_nginx(tmp)
        spin, port, wasm = start_spin(tmp, args.src, wasm_dir, pg, fake_port)
        print(f"spin up on :{port}, PostgreSQL on :{pg.port}, fakes on :{fake_port}; "
              f"{args.duration}s per point", file=sys.stderr)
        # Warm-up: compiled instances, a full connection pool, a cached FCM token.
        for kind in ("readyz", "reminder"):
            env = dict(os.environ, BENCH_KIND=kind, BENCH_TAG="ffffffff", BENCH_SEEDED="0")
            run(["wrk", "-t", "2", "-c", "64", "-d", "2s", "-s", os.path.join(BENCH, "wrk.lua"),
                 f"http://127.0.0.1:{port}"], env=env)
        points, index = [], 0
        for conc in [int(c) for c in args.conc.split(",")]:
            floor_rps = 3000.0
            task_eps = None
            for kind in routes:
                index += 1
                threads = min(conc, 2)
                seeded = 0
                if kind in ("task", "bulk_task"):
                    # Upper bound of what the point can complete: the floor's
                    # rate (bulk: or 5x the single-event rate) + 50 %.
                    eps = floor_rps if kind == "task" else max(floor_rps, 5 * (task_eps or 0), 1000)
                    seeded = min(int(eps * args.duration * 1.5 / threads) + BATCH, 400_000)
                    seed_tasks(pg, f"{index:08x}", threads, seeded)
                p = run_point(args, pg, spin, port, kind, conc, index, seeded)
                if kind == "readyz":
                    floor_rps = p["requests_per_s"]
                if kind == "task":
                    task_eps = p["events_per_s"]
                points.append(p)
                print(f"  {LABEL[kind]:32} c={conc:<3} {p['events_per_s']:8.0f} events/s  "
                      f"p50 {p['p50_ms']:7.1f} ms  p99 {p['p99_ms']:7.1f} ms  "
                      f"not SUCCESS {p['bad_answers']}", file=sys.stderr)
                if p["bad_answers"] or p["socket_errors"] or p["timeouts"]:
                    print(f"    !! {p['bad_answers']} answers not SUCCESS, {p['socket_errors']} socket errors, "
                          f"{p['timeouts']} timeouts; first: {p['bad_sample']}", file=sys.stderr)
                if p["reused_tasks"]:
                    print(f"    !! ran out of seeded tasks: {p['reused_tasks']} redeliveries", file=sys.stderr)
        ratios(points)
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        head = subprocess.run(["git", "-C", args.src, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", args.src, "status", "--porcelain", "--", "components", "crates"],
                               capture_output=True, text=True).stdout.strip() != ""
        result = {"utc": stamp, "duration_s": args.duration, "git_head": head or None,
                  "tree_dirty": dirty, "wasm_sha256_16": wasm, "cpus": os.cpu_count(),
                  "loadavg_at_end": os.getloadavg(), "spin": run([SPIN, "--version"]).strip(),
                  "spin_preload": os.environ.get("BENCH_SPIN_PRELOAD"),
                  "points": points}
        os.makedirs(f"{BENCH}/results", exist_ok=True)
        path = f"{BENCH}/results/{stamp}.json"
        with open(path, "w") as f:
            json.dump(result, f, indent=1)
        print(table(points))
        print(f"\nresults: {os.path.relpath(path, os.getcwd())}")
        if any(p["bad_answers"] or p["socket_errors"] or p["timeouts"] for p in points):
            print("WARNING: some answers were not SUCCESS (see not SUCCESS column)", file=sys.stderr)
            return 1
        return 0
    finally:
        for proc in (spin, nginx):
            if proc and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
        if pg:
            pg.stop()
        if args.keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
