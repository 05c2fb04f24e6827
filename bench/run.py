"""The benchmark harness: ``python -m bench.run --scales city,nation``.

For each scale and backend: generate the data set into a fresh database, then measure the
server time of the main pages with the Flask test client (median and p95 over N repetitions)
next to their floors, measured in the same run: a minimal Flask route (the framework's floor)
and the SQL statements each page issues, replayed alone on the database (the data's floor).
At nation scale on PostgreSQL it also measures throughput under gunicorn with wrk, the peak
memory of a server process, the dashboard in headless Chromium, and the command-line imports.

Results print as a table and are written as JSON under bench/results/.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import make_url

from . import generate as gen
from .wsgi import bench_config

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
PG_SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--headless"]
USER_AGENT = "spt-bench/1.0"
SEARCH_TERM = "國民"  # in the name of every generated primary and junior high school
MB = 1024 * 1024

#: Targets from issue 7, checked against the results.
TARGETS = {
    "dashboard_ms": 150, "page_ms": 50, "floor_ratio": 3.0, "nation10_dashboard_ms": 1000,
    "growth": 5.0, "rps_share": 0.40, "p95_ms": 300, "chart_s": 1.5,
    "first_visit_bytes": 1.6 * 1000 * 1000, "repeat_visit_bytes": 150 * 1000,
    "directory_s": 10, "activities_s": 60, "activities_mb": 500,
}


# -- statistics ------------------------------------------------------------------------------

def summary(samples_ms: list[float]) -> dict:
    if not samples_ms:
        return {"n": 0, "median_ms": None, "p95_ms": None, "min_ms": None}
    ordered = sorted(samples_ms)
    p95 = ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]
    return {"n": len(ordered), "median_ms": round(statistics.median(ordered), 3),
            "p95_ms": round(p95, 3), "min_ms": round(ordered[0], 3)}


def log(msg: str) -> None:
    print(f"[bench {datetime.now(UTC):%H:%M:%S}] {msg}", file=sys.stderr, flush=True)


# -- machine and databases --------------------------------------------------------------------

def machine_info() -> dict:
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cores": os.cpu_count(), "memory_gb": round(mem_kb / 1024 / 1024, 1), "cpu": cpu,
            "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
            "platform": platform.platform()}


def postgres_version() -> str | None:
    try:
        engine = sa.create_engine(f"{PG_SERVER}/postgres")
        with engine.connect() as conn:
            version = conn.execute(sa.text("SHOW server_version")).scalar()
        engine.dispose()
        return version
    except sa.exc.OperationalError:
        return None


def _pg_admin():
    return sa.create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")


def create_database(backend: str, scale: str, workdir: Path) -> str:
    """A fresh, empty database for one scale; returns its SQLAlchemy URL."""
    if backend == "sqlite":
        path = workdir / f"bench_{scale}.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    name = f"spt_bench_{scale}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{PG_SERVER}/{name}"


def drop_database(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{parsed.database}{suffix}").unlink(missing_ok=True)
        return
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    admin.dispose()


def make_app(url: str, **overrides) -> Flask:
    from pairing import create_app, freeze_startup_objects

    app = create_app({**bench_config(url), **overrides})
    app.logger.disabled = True  # a page's 500 shows as its status in the table
    freeze_startup_objects()  # as app.py does
    return app


def build_schema_and_data(app: Flask, scale: str) -> dict:
    from pairing.extensions import db

    with app.app_context():
        t0 = time.perf_counter()
        db.create_all()
        t1 = time.perf_counter()
        inserted = gen.generate(db.session, scale)
        t2 = time.perf_counter()
        counted = gen.count_rows(db.session)
        db.session.remove()
    return {"schema_s": round(t1 - t0, 3), "generate_s": round(t2 - t1, 3),
            "inserted": inserted, "rows": counted}


# -- pages -----------------------------------------------------------------------------------

def sign_in(client, email: str = gen.OFFICIAL_EMAIL) -> None:
    resp = client.post("/auth/login", data={"email": email, "password": gen.PASSWORD},
                       headers={"User-Agent": USER_AGENT})
    if resp.status_code not in (302, 303):
        raise RuntimeError(f"Sign-in failed with status {resp.status_code}")


def page_targets(app: Flask, per_page: int) -> dict[str, str]:
    """The pages to measure, with ids picked deterministically from the data."""
    from pairing.extensions import db
    from pairing.pairings.models import Activity, Pairing
    from pairing.schools.models import School

    with app.app_context():
        district_id = db.session.scalar(sa.select(sa.func.min(School.district_id)))
        school_id = db.session.scalar(sa.select(Pairing.school_id).order_by(Pairing.id))
        pairing_id = db.session.scalar(
            sa.select(Activity.pairing_id).group_by(Activity.pairing_id)
            .order_by(sa.func.count().desc(), Activity.pairing_id).limit(1))
        matches = db.session.scalar(
            sa.select(sa.func.count()).select_from(School)
            .where(School.serves_primary.is_(True), School.name_zh.contains(SEARCH_TERM)))
        db.session.remove()
    pages = max(1, math.ceil(matches / per_page))
    deep = max(1, int(pages * 0.8))
    q = urllib.parse.quote(SEARCH_TERM)
    return {
        "dashboard": "/dashboard/",
        "dashboard_filtered": f"/dashboard/?district={district_id}&level=primary",
        "schools_search": f"/schools/?q={q}&level=primary",
        "schools_search_deep": f"/schools/?q={q}&level=primary&page={deep}",
        "school_status": f"/schools/{school_id}",
        "pairing": f"/pairings/{pairing_id}",
    }


#: Seconds of samples per page after which a slow page stops repeating (at least MIN_REPS).
BUDGET_S = 20.0
MIN_REPS = 5


def time_requests(client, path: str, reps: int, warmup: int = 2) -> dict:
    statuses: dict[int, int] = {}
    size = 0
    for _ in range(warmup):
        client.get(path, headers={"User-Agent": USER_AGENT})
    samples: list[float] = []
    started = time.perf_counter()
    while len(samples) < reps:
        if len(samples) >= MIN_REPS and time.perf_counter() - started > BUDGET_S:
            break
        t0 = time.perf_counter()
        resp = client.get(path, headers={"User-Agent": USER_AGENT})
        samples.append((time.perf_counter() - t0) * 1000)
        statuses[resp.status_code] = statuses.get(resp.status_code, 0) + 1
        size = len(resp.data)
    return {**summary(samples), "statuses": statuses, "bytes": size}


@contextmanager
def capture_sql(engine):
    """Collect (statement, parameters, executemany) for every statement sent to the DBAPI."""
    captured: list[tuple] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        captured.append((statement, parameters, executemany))

    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield captured
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def replay_sql(engine, statements: list[tuple], reps: int, explain: bool = False) -> dict:
    """The captured statements run alone on the DBAPI connection (fetching every row).

    Also returns the slowest statements (their fastest run), with the plan when ``explain``.
    """
    samples = []
    rows = 0
    per_statement = [float("inf")] * len(statements)
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        for i in range(reps + 1):
            t0 = time.perf_counter()
            count = 0
            for k, (statement, params, many) in enumerate(statements):
                ts = time.perf_counter()
                cur = raw.cursor()
                if many:
                    cur.executemany(statement, params)
                else:
                    cur.execute(statement, params)
                if cur.description is not None:
                    count += len(cur.fetchall())
                cur.close()
                if i:
                    per_statement[k] = min(per_statement[k], time.perf_counter() - ts)
            elapsed = (time.perf_counter() - t0) * 1000
            raw.rollback()
            if i:  # the first run warms the caches
                samples.append(elapsed)
                rows = count
        slowest = sorted(range(len(statements)), key=lambda k: -per_statement[k])[:5]
        top = []
        for k in slowest:
            statement, params, _ = statements[k]
            entry = {"ms": round(per_statement[k] * 1000, 2),
                     "sql": " ".join(statement.split())[:600]}
            if explain and per_statement[k] > 0.005:
                prefix = ("EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite"
                          else "EXPLAIN ")
                cur = raw.cursor()
                cur.execute(prefix + statement, params)
                entry["plan"] = [" ".join(str(c) for c in row) for row in cur.fetchall()]
                cur.close()
                raw.rollback()
            top.append(entry)
    return {**summary(samples), "queries": len(statements), "rows": rows, "slowest": top}


def framework_floor(app: Flask, reps: int) -> dict:
    """A trivial route on a bare Flask app, and the app's own /healthz (anonymous)."""
    minimal = Flask("bench_floor")

    @minimal.route("/min")
    def min_route():
        return "ok"

    bare = time_requests(minimal.test_client(), "/min", reps * 5, warmup=20)
    health = time_requests(app.test_client(), "/healthz", reps * 2, warmup=5)
    return {"minimal_route": bare, "healthz": health}


def measure_pages(app: Flask, reps: int, explain: bool = False) -> dict:
    from pairing.extensions import db

    out: dict = {}
    with app.app_context():
        engine = db.engine
    client = app.test_client()
    sign_in(client)
    out["floors"] = framework_floor(app, reps)
    fw = out["floors"]["minimal_route"]["median_ms"]
    targets = page_targets(app, app.config.get("PER_PAGE", 25))
    pages: dict = {}
    for name, path in targets.items():
        with capture_sql(engine) as statements:
            resp = client.get(path, headers={"User-Agent": USER_AGENT})
        first_status = resp.status_code
        timing = time_requests(client, path, reps, warmup=2 if reps >= MIN_REPS else 1)
        sql = (replay_sql(engine, list(statements), timing["n"], explain=explain) if statements
               else summary([]))
        floor = (fw or 0) + (sql.get("median_ms") or 0)
        ratio = (timing["median_ms"] / floor) if floor and timing["median_ms"] else None
        pages[name] = {"path": path, "status": first_status, **timing, "sql_floor": sql,
                       "floor_ms": round(floor, 3),
                       "ratio_to_floor": round(ratio, 2) if ratio else None}
        log(f"  {name:22s} {timing['median_ms']:9.2f} ms median  {timing['p95_ms']:9.2f} p95  "
            f"sql {sql.get('median_ms') or 0:8.2f} ms / {sql.get('queries', 0)} queries  "
            f"status {first_status}")
    out["pages"] = pages
    out.update(uncached_pages(app, client, targets, reps))
    return out


def uncached_pages(app: Flask, client, targets: dict, reps: int) -> dict:
    """When the dashboard caches its results (pairing/dashboard/cache.py), time it with the
    cache cleared before every request too: the issue asks for the uncached times."""
    try:
        from pairing.dashboard import cache as dash_cache
    except ImportError:
        return {}
    clear = getattr(dash_cache, "clear", None)
    if clear is None:
        return {}
    out = {}
    for name in ("dashboard", "dashboard_filtered"):
        samples: list[float] = []
        started = time.perf_counter()
        while len(samples) < reps:
            if len(samples) >= MIN_REPS and time.perf_counter() - started > BUDGET_S:
                break
            clear()
            t0 = time.perf_counter()
            client.get(targets[name], headers={"User-Agent": USER_AGENT})
            samples.append((time.perf_counter() - t0) * 1000)
        out[name] = summary(samples)
        log(f"  {name + ' (uncached)':22s} {out[name]['median_ms']:9.2f} ms median  "
            f"{out[name]['p95_ms']:9.2f} p95")
    return {"uncached": out}


# -- gunicorn, wrk, memory, browser ----------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(target: str, url: str | None, workers: int, workdir: Path):
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "INSTANCE_PATH": str(workdir / "instance"),
           "SECRET_KEY": "bench-secret-key", "APP_ENV": "production"}
    if url:
        env["BENCH_DATABASE_URL"] = url
    cmd = [str(Path(sys.executable).parent / "gunicorn"), "--workers", str(workers),
           "--bind", f"127.0.0.1:{port}", "--chdir", str(ROOT), "--log-level", "warning",
           "--backlog", "2048", target]
    log_file = (workdir / f"gunicorn_{target.replace(':', '_')}.log").open("w")
    proc = subprocess.Popen(cmd, env=env, stdout=log_file, stderr=subprocess.STDOUT,
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        probe = "/min" if target.endswith(":minimal") else "/healthz"
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _, _ = http_request(base + probe)
                if status == 200:
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start (see {log_file.name})")
            time.sleep(0.3)
        yield base, proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log_file.close()


def http_request(url: str, method: str = "GET", body: bytes | None = None,
                 headers: dict | None = None) -> tuple[int, dict, bytes]:
    import http.client

    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    conn.request(method, path, body=body, headers={"User-Agent": USER_AGENT, **(headers or {})})
    resp = conn.getresponse()
    data = resp.read()
    result = resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
    conn.close()
    return result


def http_sign_in(base: str, email: str) -> str:
    """Sign in over HTTP; returns the Cookie header value."""
    body = urllib.parse.urlencode({"email": email, "password": gen.PASSWORD}).encode()
    status, headers, _ = http_request(
        base + "/auth/login", "POST", body,
        {"Content-Type": "application/x-www-form-urlencoded"})
    cookie = headers.get("set-cookie", "")
    if status not in (302, 303) or not cookie:
        raise RuntimeError(f"HTTP sign-in failed: {status}")
    return cookie.split(";", 1)[0]


def worker_pids(master: int) -> list[int]:
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:
            pids.append(int(stat.parent.name))
    return pids


def proc_status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def measure_memory(base: str, master: int, cookie: str, paths: list[str]) -> dict:
    """Peak resident memory (VmHWM) of the gunicorn workers around dashboard requests."""
    pids = worker_pids(master)
    before = {pid: proc_status_kb(pid, "VmRSS") for pid in pids}
    statuses = []
    for _ in range(4):
        for path in paths:
            statuses.append(http_request(base + path, headers={"Cookie": cookie})[0])
    peaks = {pid: proc_status_kb(pid, "VmHWM") for pid in pids}
    return {"workers": len(pids), "rss_before_mb": round(max(before.values(), default=0) / 1024,
                                                           1),
            "peak_rss_mb": round(max(peaks.values(), default=0) / 1024, 1),
            "statuses": sorted(set(statuses))}


WRK_SCRIPT = r"""
local paths = {%(paths)s}
local bodies = {%(bodies)s}
local methods = {%(methods)s}
local threads = {}
local counter = 0
-- Globals, not locals: done() reads them from each thread with thread:get().
bad = 0
redirects = 0
writes = 0

function setup(thread)
  thread:set("id", counter)
  table.insert(threads, thread)
  counter = counter + 1
end

function init(args)
  idx = id * 97
end

function request()
  idx = idx + 1
  local i = (idx %% #paths) + 1
  local headers = {}
  headers["Cookie"] = "%(cookie)s"
  headers["User-Agent"] = "%(ua)s"
  if methods[i] == "POST" then
    writes = writes + 1
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    return wrk.format("POST", paths[i], headers, bodies[i])
  end
  return wrk.format("GET", paths[i], headers, nil)
end

function response(status, headers, body)
  if status >= 400 then bad = bad + 1 end
  if status >= 300 and status < 400 then redirects = redirects + 1 end
end

function done(summary, latency, requests)
  local b, r, w = 0, 0, 0
  for _, t in ipairs(threads) do
    b = b + (t:get("bad") or 0)
    r = r + (t:get("redirects") or 0)
    w = w + (t:get("writes") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %%d, "duration_us": %%d, "bytes": %%d, "p50_us": %%d, "p95_us": %%d, ' ..
    '"p99_us": %%d, "max_us": %%d, "connect_errors": %%d, "read_errors": %%d, ' ..
    '"write_errors": %%d, "status_errors": %%d, "timeouts": %%d, "http_4xx_5xx": %%d, ' ..
    '"redirects": %%d, "writes_sent": %%d}\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50),
    latency:percentile(95), latency:percentile(99), latency.max, e.connect, e.read, e.write,
    e.status, e.timeout, b, r, w))
end
"""


def lua_list(items: list[str]) -> str:
    return ", ".join(json.dumps(x, ensure_ascii=False) for x in items)


def run_wrk(base: str, requests: list[tuple[str, str, str]], cookie: str, seconds: int,
            connections: int, workdir: Path, name: str) -> dict:
    """wrk with a Lua script cycling through ``requests`` [(method, path, body)]."""
    wrk = shutil.which("wrk")
    if wrk is None:
        return {"error": "wrk is not installed (apt-get install -y wrk)"}
    script = workdir / f"{name}.lua"
    script.write_text(WRK_SCRIPT % {
        "paths": lua_list([p for _, p, _ in requests]),
        "bodies": lua_list([b for _, _, b in requests]),
        "methods": lua_list([m for m, _, _ in requests]),
        "cookie": cookie.replace('"', ""), "ua": USER_AGENT,
    }, encoding="utf-8")
    cmd = [wrk, "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s",
           str(script), base]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    for line in proc.stdout.splitlines():
        if line.startswith("WRKJSON "):
            raw = json.loads(line[len("WRKJSON "):])
            secs = raw["duration_us"] / 1e6
            errors = (raw["connect_errors"] + raw["read_errors"] + raw["write_errors"]
                      + raw["status_errors"] + raw["timeouts"])
            return {"rps": round(raw["requests"] / secs, 1), "requests": raw["requests"],
                    "seconds": round(secs, 1), "connections": connections,
                    "p50_ms": raw["p50_us"] / 1000, "p95_ms": raw["p95_us"] / 1000,
                    "p99_ms": raw["p99_us"] / 1000, "max_ms": raw["max_us"] / 1000,
                    "errors": errors, "http_errors": raw["http_4xx_5xx"],
                    "redirects": raw["redirects"], "writes_sent": raw["writes_sent"],
                    "raw": raw}
    return {"error": "no result from wrk", "stdout": proc.stdout[-2000:],
            "stderr": proc.stderr[-2000:]}


def traffic_mix(app: Flask, targets: dict, n: int = 400, seed: int = 7) -> list[tuple]:
    """Mostly dashboard and lists, some writes, over varying districts, schools, pairings."""
    import random

    from pairing.extensions import db
    from pairing.pairings.models import Pairing
    from pairing.schools.models import District, School

    rng = random.Random(seed)
    with app.app_context():
        districts = list(db.session.scalars(sa.select(District.id)))
        schools = list(db.session.scalars(sa.select(School.id)))
        pairings = list(db.session.scalars(
            sa.select(Pairing.id).where(Pairing.status == "active")))
        db.session.remove()
    writes = write_requests(app, pairings)
    q = urllib.parse.quote(SEARCH_TERM)
    out = []
    for i in range(n):
        r = rng.random()
        level = rng.choice(["primary", "junior", "senior"])
        if r < 0.30:
            out.append(("GET", "/dashboard/", ""))
        elif r < 0.45:
            out.append(("GET", f"/dashboard/?district={rng.choice(districts)}&level={level}", ""))
        elif r < 0.65:
            out.append(("GET", f"/schools/?q={q}&level={level}&page={rng.randint(1, 5)}", ""))
        elif r < 0.72:
            out.append(("GET", f"/schools/?district={rng.choice(districts)}", ""))
        elif r < 0.82:
            out.append(("GET", f"/schools/{rng.choice(schools)}", ""))
        elif r < 0.95 or not writes:
            out.append(("GET", f"/pairings/{rng.choice(pairings)}", ""))
        else:
            out.append(writes[i % len(writes)])
    return out


def write_requests(app: Flask, pairings: list[int]) -> list[tuple[str, str, str]]:
    """Writes for the mix: record an activity in a pairing, when the pairing pages offer it."""
    paths = {rule.rule for rule in app.url_map.iter_rules() if "POST" in (rule.methods or ())}
    template = next((p for p in ("/pairings/<int:pairing_id>/activities/new",
                                 "/activities/new") if p in paths), None)
    if template is None:
        return []
    out = []
    for i, pid in enumerate(pairings[:50]):
        body = urllib.parse.urlencode({
            "pairing_id": pid, "title": f"Load test exchange {i}", "type": "virtual_exchange",
            "mode": "virtual", "start_on": "2026-10-01", "end_on": "2026-10-01",
            "local_students": 10, "local_teachers": 1, "partner_students": 10,
            "partner_teachers": 1})
        out.append(("POST", template.replace("<int:pairing_id>", str(pid)), body))
    return out


def wait_idle(base: str, probe: str = "/healthz", timeout: float = 120) -> None:
    """Wait until the server answers a trivial request quickly twice in a row."""
    deadline = time.monotonic() + timeout
    fast = 0
    while fast < 2 and time.monotonic() < deadline:
        t0 = time.perf_counter()
        http_request(base + probe)
        fast = fast + 1 if time.perf_counter() - t0 < 0.05 else 0
        time.sleep(0.2)


def throughput(app: Flask, url: str, targets: dict, seconds: int, workers: int,
               workdir: Path, browser: bool, memory: bool) -> dict:
    out: dict = {"workers": workers, "server": "gunicorn (sync workers)", "tool": "wrk"}
    mix = traffic_mix(app, targets)
    with gunicorn("bench.wsgi:app", url, workers, workdir) as (base, proc):
        cookie_official = http_sign_in(base, gen.OFFICIAL_EMAIL)
        cookie_staff = http_sign_in(base, gen.STAFF_EMAIL)
        check = http_request(base + "/dashboard/", headers={"Cookie": cookie_staff})[0]
        out["dashboard_status_over_http"] = check
        if memory:
            out_mem = measure_memory(base, proc.pid, cookie_official,
                                     [targets["dashboard"], targets["dashboard_filtered"]])
            log(f"  memory: peak RSS {out_mem['peak_rss_mb']} MB")
            out["memory"] = out_mem
        # Warm every worker (templates compiled, translations loaded) before measuring, then
        # let the requests queued by the warm-up drain.
        run_wrk(base, mix, cookie_staff, 3, workers, workdir, "app_warmup")
        wait_idle(base)
        log(f"  wrk: app, 32 connections, {seconds} s")
        # Staff signs in so that the writes in the mix are allowed.
        out["app"] = run_wrk(base, mix, cookie_staff, seconds, 32, workdir, "app_mix")
        if browser:
            wait_idle(base)
            out["browser"] = browser_run(base)
    with gunicorn("bench.wsgi:minimal", None, workers, workdir) as (base, _):
        run_wrk(base, [("GET", "/min", "")], "", 2, workers, workdir, "minimal_warmup")
        wait_idle(base, "/min")
        log(f"  wrk: minimal route, 32 connections, {seconds} s")
        out["minimal"] = run_wrk(base, [("GET", "/min", "")], "", seconds, 32, workdir,
                                 "minimal")
    app_rps = out["app"].get("rps")
    min_rps = out["minimal"].get("rps")
    out["rps_share"] = round(app_rps / min_rps, 3) if app_rps and min_rps else None
    return out


CHARTS_DRAWN_JS = """
() => {
  const figures = document.querySelectorAll(
    'script[type="application/json"][data-chart], script[type="application/json"].chart-data, '
    + '[data-figure], [data-chart-id], .js-chart').length;
  const drawn = Array.from(document.querySelectorAll('.js-plotly-plot'))
    .filter(el => el.querySelector('.main-svg')).length;
  const want = Math.max(figures, 1);
  return drawn >= want ? {t: performance.now(), drawn: drawn, want: want} : null;
}
"""


def browser_run(base: str) -> dict:
    """Time until every dashboard chart is drawn in headless Chromium, first and repeat
    visit, with the bytes transferred (encoded, as on the wire)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return {"error": "playwright is not installed"}
    out: dict = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            # Sign in in one context, then visit from a fresh context (an empty cache) that
            # carries the session cookie.
            login = browser.new_context(user_agent=USER_AGENT)
            page = login.new_page()
            page.goto(base + "/auth/login")
            page.fill("input[name=email]", gen.OFFICIAL_EMAIL)
            page.fill("input[name=password]", gen.PASSWORD)
            with page.expect_navigation():
                page.locator("form [type=submit]").first.click()
            cookies = login.cookies()
            login.close()
            context = browser.new_context(user_agent=USER_AGENT)
            context.add_cookies(cookies)
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            seen: dict = {"bytes": 0, "requests": 0, "cached": 0, "urls": {}, "sizes": {}}

            def responded(params):
                seen["urls"][params["requestId"]] = params["response"]["url"]

            def finished(params):
                size = params.get("encodedDataLength", 0)
                seen["bytes"] += size
                seen["requests"] += 1
                url = seen["urls"].get(params["requestId"], "?")
                path = urllib.parse.urlsplit(url).path
                seen["sizes"][path] = seen["sizes"].get(path, 0) + size

            def served_from_cache(params):
                seen["cached"] += 1

            cdp.on("Network.responseReceived", responded)
            cdp.on("Network.loadingFinished", finished)
            cdp.on("Network.requestServedFromCache", served_from_cache)
            for visit in ("first_visit", "repeat_visit"):
                seen.update(bytes=0, requests=0, cached=0, sizes={})
                page.goto(base + "/dashboard/", wait_until="commit")
                try:
                    handle = page.wait_for_function(CHARTS_DRAWN_JS, timeout=20_000,
                                                    polling="raf")
                    drawn = handle.json_value()
                except Exception as exc:  # noqa: BLE001 - reported, not fatal
                    drawn = {"t": None, "error": str(exc).splitlines()[0]}
                page.wait_for_load_state("networkidle")
                out[visit] = {"charts_drawn_s": round(drawn["t"] / 1000, 3)
                              if drawn.get("t") else None,
                              "charts": drawn.get("drawn"), "error": drawn.get("error"),
                              "bytes": seen["bytes"], "requests": seen["requests"],
                              "from_cache": seen["cached"],
                              "largest": sorted(seen["sizes"].items(),
                                                key=lambda kv: -kv[1])[:6]}
                log(f"  browser {visit}: {out[visit]}")
        finally:
            browser.close()
    return out


# -- imports ---------------------------------------------------------------------------------

def run_cli(args: list[str], url: str, workdir: Path, timeout: int = 180) -> dict:
    """Run ``flask --app app ...`` as a child; wall time and the child's peak RSS.

    JURISDICTION is the whole country: the national directory is imported as a ministry
    would run the app."""
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench-secret-key",
           "JURISDICTION": "全國", "DEFAULT_LOCALE": "en",
           "INSTANCE_PATH": str(workdir / "instance"), "PYTHONPATH": str(ROOT)}
    cmd = [str(Path(sys.executable).parent / "flask"), "--app", "app", *args]
    out_file = workdir / "cli_output.txt"
    with out_file.open("w") as fh:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        timed_out = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                timed_out = True
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
        elapsed = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    tail = out_file.read_text(errors="replace")[-600:]
    return {"command": " ".join(["flask --app app", *args]), "seconds": round(elapsed, 2),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1), "exit_code": proc.returncode,
            "timed_out_after_s": timeout if timed_out else None, "output_tail": tail}


def import_commands() -> dict[str, list[str]] | None:
    """The import command line for each kind, from ``flask import --help``."""
    env = {**os.environ, "SECRET_KEY": "x", "PYTHONPATH": str(ROOT),
           "INSTANCE_PATH": tempfile.mkdtemp(prefix="spt-bench-")}
    flask = str(Path(sys.executable).parent / "flask")
    help_text = subprocess.run([flask, "--app", "app", "import", "--help"], cwd=ROOT, env=env,
                               capture_output=True, text=True, timeout=60).stdout
    if "Usage" not in help_text:
        return None
    return {"help": help_text}


def directory_args(path: Path, help_text: str) -> list[str]:
    return ["import", "schools", str(path), "--level", "primary"]


def activities_args(path: Path, help_text: str) -> list[str]:
    return ["import", "activities", str(path)]


def measure_imports(app: Flask, nation_url: str, backend: str, workdir: Path,
                    activity_rows: int = 200_000) -> dict:
    from pairing.extensions import db

    cmds = import_commands()
    if cmds is None:
        return {"error": "`flask --app app import` is not available"}
    out: dict = {}
    directory = gen.write_ministry_directory(workdir / "ministry_primary.csv")
    empty_url = create_database(backend, "import", workdir)
    empty_app = make_app(empty_url)
    with empty_app.app_context():
        db.create_all()
        db.session.remove()
        db.engine.dispose()
    log("  import: national primary directory (2,600 rows)")
    out["directory"] = run_cli(directory_args(directory, cmds["help"]), empty_url, workdir)
    out["directory"]["rows_in_file"] = 2_600
    with empty_app.app_context():
        out["directory"]["schools_after"] = db.session.scalar(sa.text("SELECT count(*) FROM "
                                                                      "school"))
        db.session.remove()
        db.engine.dispose()
    drop_database(empty_url)
    with app.app_context():
        (activities,) = gen.write_activities_csv(db.session, workdir / "activities.csv",
                                                 rows=activity_rows)
        before = db.session.scalar(sa.text("SELECT count(*) FROM activity"))
        db.session.remove()
    log(f"  import: {activity_rows:,} activities")
    result = run_cli(activities_args(activities, cmds["help"]), nation_url, workdir)
    try:
        from pairing.imports.readers import MAX_ROWS
    except ImportError:  # pragma: no cover - the import feature moved
        MAX_ROWS = None
    if result["exit_code"] != 0 and MAX_ROWS and activity_rows > MAX_ROWS:
        # The importer caps a file's rows: import the same rows as two files, one after the
        # other, and report the sum of the times and the larger peak.
        log("  import: the file was refused as too large; importing it as two halves")
        with app.app_context():
            halves = gen.write_activities_csv(db.session, workdir / "activities.csv",
                                              rows=activity_rows, parts=2)
            db.session.remove()
        runs = [run_cli(activities_args(halves[0], cmds["help"]), nation_url, workdir)]
        if runs[0]["exit_code"] == 0:
            runs.append(run_cli(activities_args(halves[1], cmds["help"]), nation_url, workdir))
        result = {"command": " && ".join(r["command"] for r in runs),
                  "seconds": round(sum(r["seconds"] for r in runs), 2),
                  "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
                  "exit_code": max(r["exit_code"] for r in runs),
                  "output_tail": runs[-1]["output_tail"], "split_into": len(runs),
                  "single_file": result}
    out["activities"] = result
    with app.app_context():
        after = db.session.scalar(sa.text("SELECT count(*) FROM activity"))
        db.session.remove()
    out["activities"]["rows_in_file"] = activity_rows
    out["activities"]["rows_added"] = after - before
    return out


# -- report ----------------------------------------------------------------------------------

def fmt(value, unit: str = "", digits: int = 1) -> str:
    if value is None:
        return "–"
    return f"{value:.{digits}f}{unit}"


def table(results: dict) -> str:
    lines = []
    m = results["machine"]
    lines.append(f"Machine: {m['cores']} cores, {m['memory_gb']} GB, {m['cpu']}; "
                 f"Python {m['python']}, SQLite {m['sqlite']}, "
                 f"PostgreSQL {results.get('postgres') or '–'}")
    lines.append("")
    lines.append("| scale | backend | page | median ms | p95 ms | SQL floor ms (queries) | "
                 "ratio to floor | status |")
    lines.append("|---|---|---|---:|---:|---:|---:|---|")
    for scale, per_backend in results["scales"].items():
        for backend, res in per_backend.items():
            if "pages" not in res:
                continue
            fl = res["floors"]
            lines.append(f"| {scale} | {backend} | *floor: minimal Flask route* | "
                         f"{fmt(fl['minimal_route']['median_ms'], digits=3)} | "
                         f"{fmt(fl['minimal_route']['p95_ms'], digits=3)} | | | |")
            lines.append(f"| {scale} | {backend} | *floor: /healthz* | "
                         f"{fmt(fl['healthz']['median_ms'], digits=2)} | "
                         f"{fmt(fl['healthz']['p95_ms'], digits=2)} | | | |")
            for name, p in res["pages"].items():
                sql = p["sql_floor"]
                lines.append(
                    f"| {scale} | {backend} | {name} | {fmt(p['median_ms'])} | "
                    f"{fmt(p['p95_ms'])} | {fmt(sql.get('median_ms'), digits=2)} "
                    f"({sql.get('queries', 0)}) | {fmt(p['ratio_to_floor'], '×')} | "
                    f"{p['status']} |")
            for name, u in res.get("uncached", {}).items():
                lines.append(f"| {scale} | {backend} | {name} (cache cleared) | "
                             f"{fmt(u['median_ms'])} | {fmt(u['p95_ms'])} | | | |")
    tp = results.get("throughput")
    if tp:
        lines.append("")
        lines.append("| throughput (gunicorn, 32 connections) | req/s | p50 ms | p95 ms | "
                     "p99 ms | errors |")
        lines.append("|---|---:|---:|---:|---:|---:|")
        for key in ("app", "minimal"):
            r = tp.get(key) or {}
            lines.append(f"| {key} | {fmt(r.get('rps'))} | {fmt(r.get('p50_ms'))} | "
                         f"{fmt(r.get('p95_ms'))} | {fmt(r.get('p99_ms'))} | "
                         f"{r.get('errors', '–')} (HTTP ≥400: {r.get('http_errors', '–')}) |")
        app_r = tp.get("app") or {}
        lines.append(f"\nApp / minimal route requests per second: {tp.get('rps_share')}; "
                     f"writes sent {app_r.get('writes_sent', '–')}, redirects (a saved "
                     f"activity redirects) {app_r.get('redirects', '–')}")
        if tp.get("memory"):
            mem = tp["memory"]
            lines.append(f"Server memory: peak RSS {mem['peak_rss_mb']} MB per worker "
                         f"(before the dashboard: {mem['rss_before_mb']} MB)")
        br = tp.get("browser") or {}
        for visit in ("first_visit", "repeat_visit"):
            if visit in br:
                v = br[visit]
                lines.append(f"Browser {visit.replace('_', ' ')}: charts drawn in "
                             f"{fmt(v.get('charts_drawn_s'), ' s', 2)}, "
                             f"{v.get('bytes', 0) / 1000:.1f} kB transferred in "
                             f"{v.get('requests')} responses")
    imp = results.get("imports")
    if imp:
        lines.append("")
        for backend, res in imp.items():
            for kind in ("directory", "activities"):
                r = res.get(kind)
                if r:
                    lines.append(f"Import {kind} ({backend}): {r['seconds']} s, peak RSS "
                                 f"{r['peak_rss_mb']} MB, exit code {r['exit_code']}")
            if res.get("error"):
                lines.append(f"Import ({backend}): {res['error']}")
    return "\n".join(lines)


def check_targets(results: dict) -> list[dict]:
    t = TARGETS
    checks = []

    def add(name, value, limit, ok):
        checks.append({"target": name, "value": value, "limit": limit,
                       "met": None if value is None else bool(ok)})

    for backend, res in results["scales"].get("nation", {}).items():
        pages = res.get("pages", {})
        fw = res.get("floors", {}).get("minimal_route", {}).get("median_ms") or 0
        for name, p in pages.items():
            limit = t["dashboard_ms"] if name.startswith("dashboard") else t["page_ms"]
            add(f"nation {backend} {name} median ms", p["median_ms"], limit,
                p["median_ms"] is not None and p["median_ms"] <= limit)
        dash = pages.get("dashboard")
        if dash:
            floor = fw + (dash["sql_floor"].get("median_ms") or 0)
            add(f"nation {backend} dashboard / (sum of floors)", dash["ratio_to_floor"],
                t["floor_ratio"], dash["median_ms"] <= t["floor_ratio"] * floor)
        for name, u in res.get("uncached", {}).items():
            add(f"nation {backend} {name} median ms, cache cleared", u["median_ms"],
                t["dashboard_ms"], u["median_ms"] is not None
                and u["median_ms"] <= t["dashboard_ms"])
            if name == "dashboard" and dash:
                floor = fw + (dash["sql_floor"].get("median_ms") or 0)
                add(f"nation {backend} dashboard, cache cleared / (sum of floors)",
                    round(u["median_ms"] / floor, 2) if floor else None, t["floor_ratio"],
                    u["median_ms"] <= t["floor_ratio"] * floor)
    for backend, res in results["scales"].get("nation10", {}).items():
        dash = res.get("pages", {}).get("dashboard")
        if dash:
            add(f"nation10 {backend} dashboard median ms", dash["median_ms"],
                t["nation10_dashboard_ms"], dash["median_ms"] <= t["nation10_dashboard_ms"])
            base = results["scales"].get("nation", {}).get(backend, {}).get("pages", {})
            if base.get("dashboard"):
                growth = dash["median_ms"] / base["dashboard"]["median_ms"]
                add(f"{backend} dashboard growth nation→nation10", round(growth, 2),
                    t["growth"], growth <= t["growth"])
    tp = results.get("throughput") or {}
    if tp.get("app"):
        add("throughput share of minimal route rps", tp.get("rps_share"), t["rps_share"],
            (tp.get("rps_share") or 0) >= t["rps_share"])
        add("throughput p95 ms", tp["app"].get("p95_ms"), t["p95_ms"],
            (tp["app"].get("p95_ms") or 1e9) <= t["p95_ms"])
        add("throughput errors", tp["app"].get("errors", 0) + tp["app"].get("http_errors", 0),
            0, tp["app"].get("errors", 0) + tp["app"].get("http_errors", 0) == 0)
    br = tp.get("browser") or {}
    if br.get("first_visit"):
        f, r = br["first_visit"], br.get("repeat_visit", {})
        add("browser first visit charts drawn s", f.get("charts_drawn_s"), t["chart_s"],
            (f.get("charts_drawn_s") or 1e9) <= t["chart_s"])
        add("browser first visit bytes", f.get("bytes"), t["first_visit_bytes"],
            f.get("bytes", 1e12) <= t["first_visit_bytes"])
        add("browser repeat visit bytes", r.get("bytes"), t["repeat_visit_bytes"],
            r.get("bytes", 1e12) <= t["repeat_visit_bytes"])
    for backend, imp in (results.get("imports") or {}).items():
        d, a = imp.get("directory"), imp.get("activities")
        if d:
            add(f"import directory s ({backend})", d["seconds"], t["directory_s"],
                d["exit_code"] == 0 and d["seconds"] <= t["directory_s"])
        if a:
            add(f"import 200k activities s ({backend})", a["seconds"], t["activities_s"],
                a["exit_code"] == 0 and a["seconds"] <= t["activities_s"])
            add(f"import 200k activities peak MB ({backend})", a["peak_rss_mb"],
                t["activities_mb"], a["peak_rss_mb"] <= t["activities_mb"])
    return checks


# -- main ------------------------------------------------------------------------------------

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", default="city,nation",
                        help="comma-separated: " + ", ".join(gen.SCALES))
    parser.add_argument("--backends", default="sqlite,postgresql",
                        help="comma-separated: sqlite, postgresql")
    parser.add_argument("--quick", action="store_true",
                        help="fewer repetitions, a 5-second throughput run")
    parser.add_argument("--reps", type=int, default=None,
                        help="repetitions per page (default 30, 5 with --quick)")
    parser.add_argument("--skip", default="",
                        help="comma-separated parts to skip: pages, throughput, browser, "
                             "imports, memory")
    parser.add_argument("--seconds", type=int, default=None,
                        help="throughput duration (default 30, 5 with --quick)")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1,
                        help="gunicorn workers (default 2 × cores + 1)")
    parser.add_argument("--import-rows", type=int, default=200_000,
                        help="activities in the import file (default 200,000)")
    parser.add_argument("--extras-scale", default="nation",
                        help="scale at which throughput, memory, browser and imports run")
    parser.add_argument("--out", type=Path, default=None, help="JSON result file")
    parser.add_argument("--explain", action="store_true",
                        help="store the query plans of each page's slowest statements")
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    args = parser.parse_args(argv)
    args.scales = [s for s in args.scales.split(",") if s]
    args.backends = [b for b in args.backends.split(",") if b]
    args.skip = {s for s in args.skip.split(",") if s}
    for s in args.scales:
        if s not in gen.SCALES:
            parser.error(f"unknown scale {s!r}")
    for b in args.backends:
        if b not in ("sqlite", "postgresql"):
            parser.error(f"unknown backend {b!r}")
    args.reps = args.reps or (5 if args.quick else 30)
    args.seconds = args.seconds or (5 if args.quick else 30)
    return args


def run(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    RESULTS.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="spt-bench-"))
    os.environ.setdefault("INSTANCE_PATH", str(workdir / "instance"))
    results: dict = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_info(), "postgres": None,
        "args": {"scales": args.scales, "backends": args.backends, "quick": args.quick,
                 "reps": args.reps, "skip": sorted(args.skip), "seconds": args.seconds,
                 "workers": args.workers},
        "scales": {},
    }
    if "postgresql" in args.backends:
        results["postgres"] = postgres_version()
        if results["postgres"] is None:
            log("PostgreSQL is unreachable: measuring SQLite only")
            args.backends = [b for b in args.backends if b != "postgresql"]
    try:
        for scale in args.scales:
            results["scales"][scale] = {}
            for backend in args.backends:
                log(f"{scale} / {backend}: generating")
                url = create_database(backend, scale, workdir)
                res: dict = {"url": make_url(url).render_as_string(hide_password=True)}
                results["scales"][scale][backend] = res
                app = None
                try:
                    app = make_app(url)
                    res["data"] = build_schema_and_data(app, scale)
                    log(f"  {res['data']['rows']} in {res['data']['generate_s']} s")
                    if "pages" not in args.skip:
                        res.update(measure_pages(app, args.reps, explain=args.explain))
                    if (scale == args.extras_scale and backend == "postgresql"
                            and not {"throughput", "pages"} & args.skip):
                        results["throughput"] = throughput(
                            app, url, {k: v["path"] for k, v in res["pages"].items()},
                            args.seconds, args.workers, workdir,
                            browser="browser" not in args.skip,
                            memory="memory" not in args.skip)
                    import_backend = ("postgresql" if "postgresql" in args.backends
                                      else args.backends[0])
                    if (scale == args.extras_scale and backend == import_backend
                            and "imports" not in args.skip):
                        results.setdefault("imports", {})[backend] = measure_imports(
                            app, url, backend, workdir, args.import_rows)
                finally:
                    from pairing.extensions import db

                    if app is not None:
                        with app.app_context():
                            db.session.remove()
                            db.engine.dispose()
                    if not args.keep:
                        drop_database(url)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    results["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    results["targets"] = check_targets(results)
    results["harness_peak_rss_mb"] = round(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    out = args.out or RESULTS / f"bench-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str),
                   encoding="utf-8")
    if args.out is None:
        (RESULTS / "latest.json").write_text(out.read_text(encoding="utf-8"), encoding="utf-8")
    results["json_path"] = str(out)
    print(table(results))
    print()
    for c in results["targets"]:
        mark = {True: "met", False: "MISSED", None: "not measured"}[c["met"]]
        print(f"  {mark:12s} {c['target']}: {c['value']} (limit {c['limit']})")
    print(f"\nJSON: {out}")
    return results


def main() -> None:
    run(sys.argv[1:])


if __name__ == "__main__":
    main()
