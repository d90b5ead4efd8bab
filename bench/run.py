"""Kefu load benchmark (`make bench`).

For each database (SQLite in a throw-away KEFU_VAR_DIR, then PostgreSQL in a dedicated
`kefu_bench` database that this script creates and drops):

1. migrate, `kefu seed --size demo`, `kefu seed --size large` (100,000 more customers and
   2,000,000 order lines, timed), then the batch jobs on that volume, timed, with each
   command's peak memory: `kefu recompute_tiers --now`, `kefu evaluate_credit` and
   `kefu monthly_report --month <last month> --refresh` ("not available" when a command does
   not exist; with ``--reuse`` only the jobs ``--jobs`` names);
2. start the server as in production: `kefu run --no-worker --workers 2` (gunicorn, 2 worker
   processes of `kefu run`'s default threads, or ``--threads``; KEFU_DEBUG off; on PostgreSQL
   with Redis for Huey and the cache, as in production) on a free port other than 8000;
3. take one API token as the demo user "agent" (the token endpoint is throttled at 30/min);
4. drive the scenarios at concurrency 1, 8 and 32, with wrk (10 s per run) when it is
   installed, else with the Python client and a fixed number of requests each
   (``--scenarios`` picks some; ``--reuse`` keeps a seeded PostgreSQL database between runs):
   * ``me``      GET  /api/v1/me                  — the framework floor (auth + one small answer)
   * ``search``  GET  /api/v1/customers?q=…       — 2-character name fragments, company
     words, surnames, 4-digit mobile tails, order numbers and serial numbers, taken from the
     seeded data the agent can see (figures per kind of query too)
   * ``create``  POST /api/v1/customers           — a new customer with a CN mobile (the
     duplicate check runs; ``force`` confirms the generated name is a new customer)
   * ``ticket_queue``  GET /api/v1/tickets?queue=…  — the agent's queues' first page (all, open,
     team, mine, unassigned, at risk) over the 1,000,000 seeded tickets
   * ``ticket_detail`` GET /api/v1/tickets/{id}     — tickets of the agent's customers
   * ``ticket_search`` GET /api/v1/tickets?q=…      — 2-character words from the subjects,
     ticket numbers and customers' mobiles
   * ``dashboard``     GET /api/v1/dashboard        — the supervisor dashboard's refresh, as the
     manager (every team), over the 1,000,000 seeded tickets
   * ``ticket_create`` POST /api/v1/tickets         — routed, SLA due times computed, numbered
5. stop the server (its whole process group) and clean up.

Prints a markdown table and writes the raw figures to bench/results/<time>.json.
Talks to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import screenpop
from wrkload import WRK, WrkSample, run_wrk

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
KEFU = str(Path(sys.executable).parent / "kefu")
HOST = "127.0.0.1"
PREFERRED_PORT = 8765
FORBIDDEN_PORTS = {8000}  # another engineer's `make run`
PG_SERVER = "postgres://postgres@127.0.0.1:5432"
PG_DATABASE = "kefu_bench"  # never `test`: CI uses that one
# Production is PostgreSQL with Redis (README, "In production"): the PostgreSQL run's server,
# jobs and seeders use Huey and the cache on this Redis database, emptied before and after.
REDIS_URL = "redis://127.0.0.1:6379/13"
WEB_THREADS: int | None = None  # --threads: None leaves `kefu run`'s default
# --reuse on SQLite: the seeded database is kept here between runs (var/ is not committed)
SQLITE_REUSE_FILE = ROOT / "var" / "bench-sqlite" / "kefu.sqlite3"
USERNAME = "agent"
PASSWORD = "kefu2026"  # noqa: S105 (the published demo password)
CONCURRENCY = (1, 8, 32)
# Requests per (scenario, concurrency) run; --scale multiplies them.
REQUESTS = {
    "me": 1500,
    "search": 600,
    "create": 600,
    "ticket_queue": 600,
    "ticket_detail": 600,
    "ticket_search": 600,
    "dashboard": 300,
    "ticket_create": 600,
}
# screen_pop is not a closed loop of one request: 40 polling browsers and a caller (screenpop.py)
SCENARIOS = (*REQUESTS, "screen_pop")
SCREEN_POP_SECONDS = 20.0  # per phase (idle, busy); --scale multiplies it
CTI_SECRET = "kefu-bench-cti-secret"  # noqa: S105 (the bench's own server, loopback only)
WRK_SECONDS = 10.0  # length of one run with the wrk client (--scale multiplies it)
WRK_TABLE = 8_000  # requests generated per wrk run (wrk wraps around if it sends more)
RUN_TIME_CAP = 120.0  # seconds: stop issuing requests in a run after this long, whatever happens
REQUEST_TIMEOUT = 30.0
# The machine is shared: before each run wait (up to QUIET_WAIT s) until other programs use less
# than QUIET_CORES of CPU, and record how much CPU they took during the run.
QUIET_CORES = 0.3
QUIET_WAIT = 180.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

# Create payloads: realistic customers, in the vocabulary of the seeded data.
CITIES = ("上海", "北京", "广州", "深圳", "杭州", "宁波", "南京", "苏州", "成都", "武汉")
BRANDS = ("华信", "宏达", "鼎盛", "恒通", "新兴", "金泰", "瑞丰", "天成", "博远", "联创")
TRADES = ("科技", "贸易", "机电", "信息技术", "餐饮管理", "物流", "建材", "医疗器械")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华"
REGIONS = (
    "上海市",
    "北京市",
    "广东省广州市",
    "广东省深圳市",
    "浙江省杭州市",
    "江苏省南京市",
    "四川省成都市",
    "湖北省武汉市",
)
MOBILE_PREFIXES = ("139", "138", "137", "136", "135", "150", "158", "186", "188", "199")


# ---------------------------------------------------------------------------------------------
# results


@dataclass
class RunResult:
    database: str
    scenario: str
    concurrency: int
    requests: int
    errors: int
    seconds: float
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    statuses: dict[str, int]
    error_samples: list[str]
    other_cpu_cores: float  # CPU other programs used during the run (noise), in cores
    by_label: dict[str, dict[str, float]]  # search: figures per query ("kind:query")
    by_kind: dict[str, dict[str, float]]  # search: figures per kind of query (name, tail, …)
    latencies_ms: list[float] = field(repr=False)
    # CPU the server used per request: its gunicorn processes and the database's backends
    # (not PostgreSQL's WAL writer and checkpointer). What capacity the two cores have, read
    # in a way other programs on the machine disturb far less than req/s.
    server_cpu_ms: float = 0.0
    # The machine's speed just before the run (cpu_probe_ms): this host's CPU moved by a factor
    # of two within minutes (steal time), so figures of two runs compare only with it.
    cpu_probe_ms: float = 0.0
    app_cpu_ms: float = 0.0  # of which gunicorn's processes (the rest: database backends)


@dataclass
class DatabaseResult:
    database: str
    seed_demo_s: float
    seed_large_s: float
    seed_large_reported_s: float | None
    customers_visible_to_agent: int
    queries: list[str]
    runs: list[RunResult] = field(default_factory=list)
    skipped: str = ""
    seed_large_steps: dict[str, float] = field(default_factory=dict)  # per seeder, as printed
    # Batch jobs after the large seed: seconds (the command's own figure when it prints one),
    # or None with the reason in jobs_note.
    jobs: dict[str, float | None] = field(default_factory=dict)
    jobs_note: dict[str, str] = field(default_factory=dict)
    jobs_peak_mib: dict[str, float | None] = field(default_factory=dict)
    tickets_visible_to_agent: int = 0  # the sample the ticket scenarios draw on
    ticket_queries: list[str] = field(default_factory=list)
    # screen_pop: "idle" (the agents' polls alone) and "busy" (with the queues at c=8)
    screen_pop: dict[str, dict[str, Any]] = field(default_factory=dict)


def percentile(sorted_values: list[float], pct: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not sorted_values:
        return float("nan")
    if len(sorted_values) == 1:
        return sorted_values[0]
    rank = (len(sorted_values) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (rank - low)


# ---------------------------------------------------------------------------------------------
# processes


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    for candidate in (PREFERRED_PORT, 0):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            # As gunicorn does: a port left in TIME_WAIT by the previous server is reusable.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((HOST, candidate))
            except OSError:
                continue
            port: int = sock.getsockname()[1]
            if port not in FORBIDDEN_PORTS:
                return port
    raise RuntimeError("no free TCP port on 127.0.0.1")


def kefu(args: list[str], *, env: dict[str, str], logfile: Path) -> tuple[float, str]:
    """Run `kefu <args>`; return (wall seconds, output). Fail loudly with the output's tail."""
    started = time.monotonic()
    proc = subprocess.run(
        [KEFU, *args], env=env, cwd=ROOT, capture_output=True, text=True, check=False
    )
    elapsed = time.monotonic() - started
    output = proc.stdout + proc.stderr
    with logfile.open("a", encoding="utf-8") as handle:
        handle.write(f"$ kefu {' '.join(args)}\n{output}\n")
    if proc.returncode != 0:
        raise RuntimeError(f"kefu {' '.join(args)} failed ({proc.returncode}):\n{output[-2000:]}")
    return elapsed, output


def last_ticket_id(*, env: dict[str, str], logfile: Path) -> int:
    code = (
        "from django.db.models import Max; from kefu.desk.models import Ticket; "
        "print(Ticket.objects.aggregate(m=Max('id'))['m'] or 0)"
    )
    _seconds, output = kefu(["shell", "-c", code], env=env, logfile=logfile)
    return int(output.strip().splitlines()[-1])


def tickets_delete_after(ticket_id: int, *, env: dict[str, str], logfile: Path) -> int:
    """Delete the tickets (and their grams, transitions, status links) above ``ticket_id``:
    with --reuse the ticket_create runs would otherwise pile up tickets with the bench's few
    subjects run after run, and the searches and queues would measure that pile."""
    code = (
        "from kefu.desk.models import Ticket; "
        f"print(Ticket.objects.filter(id__gt={int(ticket_id)}).delete()[1].get('desk.Ticket', 0))"
    )
    _seconds, output = kefu(["shell", "-c", code], env=env, logfile=logfile)
    return int(output.strip().splitlines()[-1])


# Batch jobs timed after the large seed: name → kefu arguments.
REPORT_MONTH = (datetime.now(UTC).date().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
JOBS = {
    "recompute_tiers": ["recompute_tiers", "--now"],
    "evaluate_credit": ["evaluate_credit"],
    # the monthly report of the last complete month (the seeds end there), regenerated
    "monthly_report": ["monthly_report", "--month", REPORT_MONTH, "--refresh"],
}
SEED_STEP = re.compile(r"^  (\w+): ([\d.]+) s$", re.MULTILINE)  # "  orders: 38.2 s"
JOB_SECONDS = re.compile(r"(\d+(?:\.\d+)?) s\b")


def batch_job(
    args: list[str], *, env: dict[str, str], logfile: Path
) -> tuple[float | None, str, float | None]:
    """Run one batch command; (seconds, note, peak memory in MiB). The seconds are the
    command's own elapsed figure (the last "… 12.3 s" it prints) when it prints one, else the
    wall time; None with the reason when the command does not exist yet or fails (the bench goes
    on). The peak memory is the command process's maximum resident set size (wait4's rusage of
    that one child: the database server's memory is not in it)."""
    started = time.monotonic()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([KEFU, *args], env=env, cwd=ROOT, stdout=out, stderr=err)
        _pid, status, usage = os.wait4(proc.pid, 0)  # reaps this child, with its own rusage
        proc.returncode = returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    peak_mib = round(usage.ru_maxrss / 1024, 1)  # ru_maxrss is in KiB on Linux
    wall = time.monotonic() - started
    output = stdout + stderr
    with logfile.open("a", encoding="utf-8") as handle:
        handle.write(f"$ kefu {' '.join(args)}\n{output}\n")
    if returncode != 0:
        if "Unknown command" in output:
            return None, "not available", None
        return None, f"failed ({returncode}): {output.strip().splitlines()[-1:]}", peak_mib
    figures = JOB_SECONDS.findall(stdout)
    if figures:
        return float(figures[-1]), f"reported by the command; wall {wall:.1f} s", peak_mib
    return round(wall, 1), "wall time", peak_mib


def redis_flush(url: str) -> bool:
    """Empty the bench's own Redis database; False when Redis does not answer."""
    try:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=2)
        client.flushdb()
        client.close()
    except Exception:
        return False
    return True


class Server:
    """`kefu run --no-worker --workers 2` in its own process group, stopped as a group."""

    def __init__(self, *, env: dict[str, str], port: int, logfile: Path) -> None:
        self.port = port
        self.logfile = logfile
        self._log = logfile.open("ab")
        threads = ["--threads", str(WEB_THREADS)] if WEB_THREADS else []
        command = [KEFU, "run", "--no-worker", "--workers", "2", *threads]
        self.proc = subprocess.Popen(
            [*command, "--host", HOST, "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group: one killpg stops gunicorn and workers
        )
        RUNNING.append(self)

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited ({self.proc.returncode}):\n{self.tail()}")
            with contextlib.suppress(httpx.HTTPError):
                # 401 without a token: the app is loaded and answering.
                if httpx.get(f"{self.base_url}/api/v1/me", timeout=2).status_code == 401:
                    return
            time.sleep(0.25)
        raise RuntimeError(f"server did not answer within {timeout:.0f} s:\n{self.tail()}")

    def tail(self) -> str:
        return self.logfile.read_text(encoding="utf-8", errors="replace")[-2000:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        # gunicorn workers may outlive the master for a moment; make sure the group is gone.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self._log.close()
        if self in RUNNING:
            RUNNING.remove(self)


RUNNING: list[Server] = []


def stop_all_servers() -> None:
    for server in list(RUNNING):
        server.stop()


# ---------------------------------------------------------------------------------------------
# CPU accounting (Linux /proc): how busy the rest of the machine is


def _system_busy_ticks() -> int:
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    values = [int(v) for v in fields[:8]]  # user nice system idle iowait irq softirq steal
    return sum(values) - values[3] - values[4]


def _process_ticks(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    fields = stat.rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def _group_pids(pgid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[2]) == pgid:
                    pids.append(int(entry.name))
    return pids


class CpuMeter:
    """CPU used by everything except the bench itself: this process, the server's process group
    and (for PostgreSQL) the backends connected to the bench database."""

    quiet_wait: float = QUIET_WAIT  # --quiet-wait

    def __init__(self, *, server_pgid: int, database: str) -> None:
        self.server_pgid = server_pgid
        self.database = database
        self._start: tuple[float, int, dict[int, int]] = (0.0, 0, {})
        self.server_seconds = 0.0  # CPU of the server and its backends in the last measure
        self.app_seconds = 0.0  # of which the server's own processes (gunicorn)

    def _own_pids(self) -> list[int]:
        pids = [os.getpid(), *_group_pids(self.server_pgid)]
        if self.database == "postgresql":
            with contextlib.suppress(Exception):
                import psycopg

                with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
                    rows = conn.execute(
                        "SELECT pid FROM pg_stat_activity WHERE datname = %s", (PG_DATABASE,)
                    ).fetchall()
                    pids += [int(row[0]) for row in rows]
        return pids

    def _snapshot(self) -> tuple[float, int, dict[int, int]]:
        return (
            time.monotonic(),
            _system_busy_ticks(),
            {pid: _process_ticks(pid) for pid in self._own_pids()},
        )

    def start(self) -> None:
        self._start = self._snapshot()

    def other_cores(self) -> float:
        """Cores used by other programs since start()."""
        began, busy0, own0 = self._start
        ended, busy1, own1 = self._snapshot()
        own = sum(ticks - own0.get(pid, 0) for pid, ticks in own1.items())
        me = os.getpid()
        app = set(_group_pids(self.server_pgid))
        used = {pid: ticks - own0.get(pid, 0) for pid, ticks in own1.items() if pid != me}
        self.server_seconds = sum(used.values()) / CLOCK_TICKS
        self.app_seconds = sum(t for pid, t in used.items() if pid in app) / CLOCK_TICKS
        seconds = max(ended - began, 1e-6)
        return max(0.0, (busy1 - busy0 - own) / CLOCK_TICKS / seconds)

    def wait_quiet(self) -> float:
        """Wait until other programs use under QUIET_CORES (or QUIET_WAIT passes)."""
        deadline = time.monotonic() + self.quiet_wait
        warned = False
        while True:
            self.start()
            time.sleep(1.0)
            other = self.other_cores()
            if other < QUIET_CORES or time.monotonic() > deadline:
                if other >= QUIET_CORES:
                    log(f"    machine still busy ({other:.2f} cores used by others); going on")
                return other
            if not warned:
                log(f"    waiting for a quiet machine ({other:.2f} cores used by others)")
                warned = True


# ---------------------------------------------------------------------------------------------
# PostgreSQL


def pg_available() -> str:
    """Empty when the server answers, otherwise why not."""
    try:
        import psycopg

        with psycopg.connect(f"{PG_SERVER}/postgres", connect_timeout=5):
            return ""
    except Exception as exc:
        return f"PostgreSQL at {PG_SERVER} not reachable: {exc}"


def pg_recreate(*, drop_only: bool = False) -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{PG_DATABASE}"')


def pg_exists() -> bool:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        return bool(
            conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [PG_DATABASE]).fetchone()
        )


@contextlib.contextmanager
def database_env(database: str, *, reuse: bool = False) -> Iterator[dict[str, str]]:
    """Environment for one database: its own var dir; PostgreSQL gets a fresh kefu_bench
    (with ``reuse``, the kefu_bench a previous ``--reuse`` run seeded and kept)."""
    if database == "sqlite" and reuse:
        var_dir = SQLITE_REUSE_FILE.parent
        var_dir.mkdir(parents=True, exist_ok=True)
    else:
        var_dir = Path(tempfile.mkdtemp(prefix=f"kefu-bench-{database}-"))
    (var_dir / "static").mkdir(exist_ok=True)  # whitenoise looks for STATIC_ROOT
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEFU_")}
    env.update(
        {
            "KEFU_VAR_DIR": str(var_dir),
            "KEFU_DEBUG": "0",
            "KEFU_HTTPS": "0",  # plain http on 127.0.0.1: cookies must not need TLS
            "KEFU_LOG_LEVEL": "WARNING",
            "KEFU_CTI_SECRET": CTI_SECRET,
            "PYTHONUNBUFFERED": "1",
        }
    )
    if database == "postgresql":
        if not (reuse and pg_exists()):
            pg_recreate()
        env["KEFU_DATABASE_URL"] = f"{PG_SERVER}/{PG_DATABASE}"
        if redis_flush(REDIS_URL):
            env["KEFU_REDIS_URL"] = REDIS_URL
        else:
            log(f"Redis at {REDIS_URL} does not answer: the server runs without it")
    try:
        yield env
    finally:
        stop_all_servers()
        if "KEFU_REDIS_URL" in env:
            redis_flush(REDIS_URL)
        if database == "postgresql" and not reuse:
            try:
                pg_recreate(drop_only=True)
            except Exception as exc:
                log(f"could not drop {PG_DATABASE}: {exc}")
        keep = os.environ.get("KEFU_BENCH_KEEP")  # set to keep the var dir (logs) for a look
        if database == "sqlite" and reuse:
            log(f"--reuse: kept {var_dir}")
        elif keep:
            log(f"kept {var_dir}")
        else:
            shutil.rmtree(var_dir, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# load


# method, url, json body, expected status, label (what the per-label figures group by)
RequestSpec = tuple[str, str, dict[str, Any] | None, int, str]


@dataclass
class Sample:
    latencies: list[float] = field(default_factory=list)
    by_label: dict[str, list[float]] = field(default_factory=lambda: collections.defaultdict(list))
    statuses: collections.Counter[str] = field(default_factory=collections.Counter)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    wall: float = 0.0


async def load(
    *,
    base_url: str,
    token: str,
    concurrency: int,
    total: int,
    make: Callable[[int], RequestSpec],
    run_for: float = RUN_TIME_CAP,
) -> Sample:
    """`total` requests from `concurrency` workers, each sending its next request as soon as
    the previous answer arrives (closed loop), for `run_for` seconds at most.

    Latencies are in seconds.
    """
    sample = Sample()
    issued = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"Authorization": f"Bearer {token}", "User-Agent": "kefu-bench/1"}
    async with httpx.AsyncClient(
        base_url=base_url, headers=headers, limits=limits, timeout=REQUEST_TIMEOUT
    ) as client:
        started = time.perf_counter()
        deadline = started + min(run_for, RUN_TIME_CAP)

        async def worker() -> None:
            nonlocal issued
            while issued < total and time.perf_counter() < deadline:
                index = issued
                issued += 1
                method, url, body, expected, label = make(index)
                sent = time.perf_counter()
                try:
                    response = await client.request(method, url, json=body)
                    status = str(response.status_code)
                    ok = response.status_code == expected
                    detail = response.text[:200]
                except httpx.HTTPError as exc:
                    status, ok, detail = type(exc).__name__, False, str(exc)[:200]
                elapsed = time.perf_counter() - sent
                sample.latencies.append(elapsed)
                sample.by_label[label].append(elapsed)
                sample.statuses[status] += 1
                if not ok:
                    sample.errors += 1
                    if len(sample.error_samples) < 5:
                        sample.error_samples.append(f"{method} {url} → {status}: {detail}")

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        sample.wall = time.perf_counter() - started
    return sample


def cpu_probe_ms() -> float:
    """Milliseconds one core takes for a fixed pure-Python loop, best of three: the machine's
    speed at this moment (lower is faster). About 130 ms on this machine on a good minute, over
    250 ms on a bad one, with nothing else running here."""
    best = float("inf")
    for _ in range(3):
        began = time.perf_counter()
        total = 0
        for number in range(1_000_000):
            total += number * number
        best = min(best, time.perf_counter() - began)
    return best * 1000


def measure(
    *,
    database: str,
    scenario: str,
    base_url: str,
    token: str,
    concurrency: int,
    total: int,
    make: Callable[[int], RequestSpec],
    meter: CpuMeter | None = None,
    client: str = "httpx",
    seconds: float = WRK_SECONDS,
) -> RunResult:
    if meter:
        meter.wait_quiet()
    probe_ms = cpu_probe_ms()
    # Warm-up, not recorded: open DB connections in both workers, fill caches.
    asyncio.run(load(base_url=base_url, token=token, concurrency=4, total=40, make=make))
    if meter:
        meter.start()
    sample: Sample | WrkSample
    if client == "wrk":
        sample = run_wrk(
            base_url=base_url,
            token=token,
            concurrency=concurrency,
            total=max(total, WRK_TABLE),
            make=make,
            seconds=seconds,
        )
    else:
        sample = asyncio.run(
            load(base_url=base_url, token=token, concurrency=concurrency, total=total, make=make)
        )
    other = meter.other_cores() if meter else 0.0
    server_cpu_ms = (
        meter.server_seconds * 1000 / len(sample.latencies) if meter and sample.latencies else 0.0
    )
    app_cpu_ms = (
        meter.app_seconds * 1000 / len(sample.latencies) if meter and sample.latencies else 0.0
    )
    wall = sample.wall
    ms = sorted(value * 1000 for value in sample.latencies)
    by_label = {}
    labelled = sample.by_label if isinstance(sample, Sample) else {}
    for label, values in sorted(labelled.items()):
        label_ms = sorted(value * 1000 for value in values)
        by_label[label] = {
            "n": len(label_ms),
            "p50_ms": round(percentile(label_ms, 50), 2),
            "max_ms": round(label_ms[-1], 2),
        }
    by_kind = {}
    kinds: dict[str, list[float]] = collections.defaultdict(list)
    for label, values in labelled.items():
        kinds[label.split(":", 1)[0]] += [value * 1000 for value in values]
    for kind, values in sorted(kinds.items()):
        values.sort()
        by_kind[kind] = {
            "n": len(values),
            "p50_ms": round(percentile(values, 50), 2),
            "p95_ms": round(percentile(values, 95), 2),
            "max_ms": round(values[-1], 2),
        }
    return RunResult(
        database=database,
        scenario=scenario,
        concurrency=concurrency,
        requests=len(ms),
        errors=sample.errors,
        seconds=round(wall, 3),
        rps=round(len(ms) / wall, 1) if wall else 0.0,
        p50_ms=round(percentile(ms, 50), 2),
        p95_ms=round(percentile(ms, 95), 2),
        p99_ms=round(percentile(ms, 99), 2),
        mean_ms=round(statistics.fmean(ms), 2) if ms else float("nan"),
        max_ms=round(ms[-1], 2) if ms else float("nan"),
        statuses=dict(sample.statuses),
        error_samples=sample.error_samples,
        other_cpu_cores=round(other, 2),
        server_cpu_ms=round(server_cpu_ms, 2),
        app_cpu_ms=round(app_cpu_ms, 2),
        cpu_probe_ms=round(probe_ms, 1),
        by_label=by_label if len(by_label) > 1 else {},
        by_kind=by_kind if len(by_kind) > 1 else {},
        latencies_ms=[round(value, 3) for value in ms],
    )


# ---------------------------------------------------------------------------------------------
# scenarios


def get_token(base_url: str, username: str = USERNAME) -> str:
    response = httpx.post(
        f"{base_url}/api/v1/auth/token",
        json={"username": username, "password": PASSWORD},
        timeout=REQUEST_TIMEOUT,
    )
    response.raise_for_status()
    token: str = response.json()["token"]
    return token


def db_rows(env: dict[str, str], database: str, sql: str, params: list[Any]) -> list[Any]:
    """Read the bench database directly (order and serial numbers have no list endpoint that
    spans customers). ``sql`` uses %s placeholders."""
    if database == "postgresql":
        import psycopg

        with psycopg.connect(env["KEFU_DATABASE_URL"]) as conn:
            return list(conn.execute(sql, params).fetchall())
    import sqlite3

    with contextlib.closing(sqlite3.connect(Path(env["KEFU_VAR_DIR"]) / "kefu.sqlite3")) as conn:
        return list(conn.execute(sql.replace("%s", "?"), params).fetchall())


def search_queries(
    base_url: str, token: str, rng: random.Random, *, env: dict[str, str], database: str
) -> tuple[list[tuple[str, str]], int]:
    """(kind, query) pairs taken from the seeded data the agent can see, the way people search:
    2-character fragments of person and company names (张三 → 张三, 海尔电器 → 海尔, 电器),
    common company words and surnames, the 4-digit tails shown in masked mobiles (138****1234),
    whole order numbers (SO202501-000123) and whole serial numbers of installed products."""
    headers = {"Authorization": f"Bearer {token}"}
    first = httpx.get(
        f"{base_url}/api/v1/customers", params={"page_size": 100}, headers=headers, timeout=30
    )
    first.raise_for_status()
    count: int = first.json()["count"]
    pages = max(1, count // 100)
    items: list[dict[str, Any]] = list(first.json()["items"])
    for page in rng.sample(range(2, pages + 1), k=min(9, pages - 1)):
        answer = httpx.get(
            f"{base_url}/api/v1/customers",
            params={"page_size": 100, "page": page},
            headers=headers,
            timeout=30,
        )
        answer.raise_for_status()
        items.extend(answer.json()["items"])
    companies = [item["name"] for item in items if item["kind"] == "company"]
    people = [item["name"] for item in items if item["kind"] == "person"]
    tails = [item["mobile_masked"][-4:] for item in items if item["mobile_masked"]]
    surnames = [name for name, _n in collections.Counter(p[0] for p in people).most_common(6)]
    # The shop name before the trade word: 趋势科技有限公司 → 趋势; and any 2 characters of a
    # person's name (王秀英 → 王秀, 秀英) or from inside a company name.
    brands = sorted({m.group(1) for n in companies if (m := re.match(r"^(\w{2})", n))})
    fragments: set[str] = set()
    for name in rng.sample(people, k=min(15, len(people))):
        if len(name) >= 2:
            at = rng.randrange(len(name) - 1)
            fragments.add(name[at : at + 2])
    for name in rng.sample(companies, k=min(10, len(companies))):
        core = name.replace("有限公司", "").replace("有限责任公司", "")
        if len(core) >= 4:
            at = rng.randrange(2, len(core) - 1)
            fragments.add(core[at : at + 2])
    queries: list[tuple[str, str]] = [
        ("word", word) for word in ("科技", "有限", "有限公司", "信息", "网络")
    ]
    queries += [("surname", name) for name in surnames]
    queries += [("name2", brand) for brand in rng.sample(brands, k=min(12, len(brands)))]
    queries += [("name2", fragment) for fragment in sorted(fragments)]
    queries += [("tail", tail) for tail in rng.sample(tails, k=min(20, len(tails)))]
    queries += [("tail", f"{rng.randrange(10_000):04d}") for _ in range(5)]  # may not exist
    # Order and serial numbers of customers the agent sees (read from the database).
    ids = [int(item["id"]) for item in items][:500]
    if ids:
        marks = ", ".join(["%s"] * len(ids))
        orders = db_rows(
            env,
            database,
            f"SELECT order_no FROM orders_order WHERE customer_id IN ({marks})",  # noqa: S608
            ids,
        )
        serials = db_rows(
            env,
            database,
            "SELECT serial_number FROM customers_asset "  # noqa: S608
            f"WHERE serial_number <> '' AND customer_id IN ({marks})",
            ids,
        )
        numbers = sorted(row[0] for row in orders)
        queries += [("order", n) for n in rng.sample(numbers, k=min(15, len(numbers)))]
        queries.append(("order", "SO201001-999999"))  # a well-formed number nobody has
        serial_numbers = sorted(row[0] for row in serials)
        queries += [
            ("serial", n) for n in rng.sample(serial_numbers, k=min(15, len(serial_numbers)))
        ]
    return queries, count


def search_maker(
    queries: list[tuple[str, str]], rng: random.Random
) -> Callable[[int], RequestSpec]:
    order = [rng.choice(queries) for _ in range(10_000)]

    def make(index: int) -> RequestSpec:
        kind, query = order[index % len(order)]
        url = f"/api/v1/customers?q={urllib.parse.quote(query)}"
        return ("GET", url, None, 200, f"{kind}:{query}")

    return make


def me_maker() -> Callable[[int], RequestSpec]:
    def make(index: int) -> RequestSpec:
        return ("GET", "/api/v1/me", None, 200, "me")

    return make


def create_maker(rng: random.Random) -> Callable[[int], RequestSpec]:
    def make(index: int) -> RequestSpec:
        if rng.random() < 0.7:
            name = (
                f"{rng.choice(CITIES)}{rng.choice(BRANDS)}{rng.choice(TRADES)}有限公司"
                if rng.random() < 0.5
                else f"{rng.choice(BRANDS)}{rng.choice(TRADES)}有限公司"
            )
            kind = "company"
        else:
            name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))
            kind = "person"
        body = {
            "name": name,
            "kind": kind,
            "mobile": f"{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10**8):08d}",
            "region": rng.choice(REGIONS),
            # The duplicate check (same mobile, credit code, or name + region) still runs on
            # every create; names from this small vocabulary repeat, so the request says what
            # an agent says after looking: "not the same customer, create it" (仍然创建).
            "force": True,
        }
        return ("POST", "/api/v1/customers", body, 201, kind)

    return make


TICKET_TYPES = ("inquiry", "complaint", "repair", "order", "claim", "suggestion")
TICKET_CHANNELS = ("phone", "web", "email", "wechat", "sms")
TICKET_SUBJECTS = (
    "空调不制冷需要上门检查",
    "订单发货延迟请尽快处理",
    "发票抬头开错需要重开",
    "安装师傅服务态度差",
    "咨询延保政策和价格",
    "收到的货物外包装破损",
)


def ticket_samples(
    base_url: str, token: str, rng: random.Random, *, env: dict[str, str], database: str
) -> dict[str, list[Any]]:
    """Tickets, customers and search terms the agent can see, read from the seeded data:
    the customers of the agent's first list pages, their tickets (ids, numbers, subjects) and
    their mobiles."""
    headers = {"Authorization": f"Bearer {token}"}
    answer = httpx.get(
        f"{base_url}/api/v1/customers", params={"page_size": 100}, headers=headers, timeout=30
    )
    answer.raise_for_status()
    customer_ids = [int(item["id"]) for item in answer.json()["items"]]
    listing = httpx.get(
        f"{base_url}/api/v1/tickets", params={"page_size": 100}, headers=headers, timeout=60
    )
    listing.raise_for_status()
    ticket_ids = [int(item["id"]) for item in listing.json()["items"]]
    marks = ", ".join(["%s"] * len(customer_ids))
    rows = db_rows(
        env,
        database,
        f"SELECT id, number, subject FROM desk_ticket WHERE customer_id IN ({marks}) "  # noqa: S608
        "ORDER BY id DESC LIMIT 2000",
        customer_ids,
    )
    mobiles = [
        row[0]
        for row in db_rows(
            env,
            database,
            f"SELECT mobile FROM customers_customer WHERE mobile <> '' AND id IN ({marks})",  # noqa: S608
            customer_ids,
        )
    ]
    ids = sorted({*ticket_ids, *(int(row[0]) for row in rows)})
    numbers = [row[1] for row in rows]
    words: set[str] = set()
    for _id, _number, subject in rng.sample(rows, k=min(60, len(rows))):
        chinese = re.findall(r"[\u4e00-\u9fff]{2,}", subject)
        for run in chinese:
            at = rng.randrange(len(run) - 1)
            words.add(run[at : at + 2])
    return {
        "customer_ids": customer_ids,
        "ticket_ids": ids,
        "search": [("word", w) for w in sorted(words)[:30]]
        + [("number", n) for n in rng.sample(numbers, k=min(20, len(numbers)))]
        + [("mobile", m) for m in rng.sample(mobiles, k=min(20, len(mobiles)))],
    }


def ticket_queue_maker(rng: random.Random) -> Callable[[int], RequestSpec]:
    queues = ("", "open", "team", "mine", "unassigned", "at_risk")

    def make(index: int) -> RequestSpec:
        queue = queues[index % len(queues)]
        url = f"/api/v1/tickets?queue={queue}" if queue else "/api/v1/tickets"
        return ("GET", url, None, 200, f"queue:{queue or 'all'}")

    return make


def ticket_detail_maker(ids: list[int], rng: random.Random) -> Callable[[int], RequestSpec]:
    order = [rng.choice(ids) for _ in range(10_000)]

    def make(index: int) -> RequestSpec:
        return ("GET", f"/api/v1/tickets/{order[index % len(order)]}", None, 200, "detail")

    return make


def ticket_search_maker(
    queries: list[tuple[str, str]], rng: random.Random
) -> Callable[[int], RequestSpec]:
    order = [rng.choice(queries) for _ in range(10_000)]

    def make(index: int) -> RequestSpec:
        kind, query = order[index % len(order)]
        url = f"/api/v1/tickets?q={urllib.parse.quote(query)}"
        return ("GET", url, None, 200, f"{kind}:{query}")

    return make


def dashboard_maker() -> Callable[[int], RequestSpec]:
    """The supervisor dashboard's 30-second refresh, as the manager (every team)."""

    def make(index: int) -> RequestSpec:
        return ("GET", "/api/v1/dashboard", None, 200, "dashboard")

    return make


def ticket_create_maker(
    customer_ids: list[int], rng: random.Random
) -> Callable[[int], RequestSpec]:
    def make(index: int) -> RequestSpec:
        body: dict[str, Any] = {
            "type": rng.choice(TICKET_TYPES),
            "channel": rng.choice(TICKET_CHANNELS),
            "customer_id": rng.choice(customer_ids),
            "subject": rng.choice(TICKET_SUBJECTS),
            "body": "客户来电反映，请尽快处理。",
            "priority": rng.choice(("low", "normal", "normal", "high", "urgent")),
        }
        return ("POST", "/api/v1/tickets", body, 201, str(body["type"]))

    return make


# ---------------------------------------------------------------------------------------------
# one database


def bench_database(
    database: str,
    *,
    scale: float,
    rng: random.Random,
    scenarios: tuple[str, ...] = SCENARIOS,
    reuse: bool = False,
    client: str = "httpx",
    extra_jobs: tuple[str, ...] = (),
) -> DatabaseResult:
    seeded = reuse and (pg_exists() if database == "postgresql" else SQLITE_REUSE_FILE.exists())
    with database_env(database, reuse=reuse) as env:
        logfile = Path(env["KEFU_VAR_DIR"]) / "bench.log"
        log(f"{database}: migrate")
        kefu(["migrate", "--noinput", "-v", "0"], env=env, logfile=logfile)
        demo_s = large_s = 0.0
        reported: float | None = None
        steps: dict[str, float] = {}
        jobs: dict[str, float | None] = {}
        jobs_note: dict[str, str] = {}
        jobs_peak: dict[str, float | None] = {}
        run_jobs = list(JOBS) if not seeded else list(extra_jobs)
        if seeded:
            log(f"{database}: --reuse: the kept database is already seeded; no seed")
        else:
            log(f"{database}: seed --size demo")
            demo_s, _out = kefu(["seed", "--size", "demo"], env=env, logfile=logfile)
            log(f"{database}: seed --size large (100,000 customers, 2,000,000 order lines)")
            large_s, output = kefu(["seed", "--size", "large"], env=env, logfile=logfile)
            found = re.search(r"Seeded \(large.*?in ([\d.]+) s", output)
            reported = float(found.group(1)) if found else None
            steps = {m.group(1): float(m.group(2)) for m in SEED_STEP.finditer(output)}
            log(f"{database}: large seed took {large_s:.1f} s (command wall time) {steps}")
        for name in run_jobs:
            args = JOBS[name]
            log(f"{database}: kefu {' '.join(args)}")
            jobs[name], jobs_note[name], jobs_peak[name] = batch_job(args, env=env, logfile=logfile)
            figure = f"{jobs[name]} s" if jobs[name] is not None else jobs_note[name]
            log(f"    {figure}, peak memory {jobs_peak[name]} MiB")

        # The server runs without the Huey worker, whose SLA job (every minute in production)
        # warns and breaches the tickets whose next check has come: without it they pile up
        # in the at-risk queue and on the dashboard, by the thousand an hour after a seed. So
        # the job runs once here, as the worker would have, before the load.
        log(f"{database}: kefu check_ticket_sla (the worker's SLA job, caught up)")
        sla_s, _out = kefu(["check_ticket_sla"], env=env, logfile=logfile)
        log(f"    {sla_s:.1f} s")

        port = free_port()
        threads = f" --threads {WEB_THREADS}" if WEB_THREADS else ""
        log(f"{database}: starting `kefu run --no-worker --workers 2{threads} --port {port}`")
        server = Server(env=env, port=port, logfile=Path(env["KEFU_VAR_DIR"]) / "server.log")
        try:
            server.wait_ready()
            token = get_token(server.base_url)
            # the dashboard is a supervisor's and a manager's page: the manager sees every team
            tokens = {"dashboard": get_token(server.base_url, "manager")}
            queries, visible = search_queries(
                server.base_url, token, rng, env=env, database=database
            )
            result = DatabaseResult(
                database=database,
                seed_demo_s=round(demo_s, 1),
                seed_large_s=round(large_s, 1),
                seed_large_reported_s=reported,
                customers_visible_to_agent=visible,
                queries=[f"{kind}:{query}" for kind, query in queries],
                seed_large_steps=steps,
                jobs=jobs,
                jobs_note=jobs_note,
                jobs_peak_mib=jobs_peak,
            )
            meter = CpuMeter(server_pgid=server.proc.pid, database=database)
            samples = ticket_samples(server.base_url, token, rng, env=env, database=database)
            result.tickets_visible_to_agent = len(samples["ticket_ids"])
            result.ticket_queries = [f"{kind}:{query}" for kind, query in samples["search"]]
            # Writes last: the reads see exactly the seeded data.
            makers: dict[str, Callable[[int], RequestSpec]] = {
                "me": me_maker(),
                "search": search_maker(queries, rng),
                "ticket_queue": ticket_queue_maker(rng),
                "ticket_detail": ticket_detail_maker(samples["ticket_ids"], rng),
                "ticket_search": ticket_search_maker(samples["search"], rng),
                "dashboard": dashboard_maker(),
                "create": create_maker(rng),
                "ticket_create": ticket_create_maker(samples["customer_ids"], rng),
            }
            for scenario, make in makers.items():
                if scenario not in scenarios:
                    continue
                if scenario == "ticket_create" and reuse:
                    # the kept database must stay as seeded: these tickets go again afterwards
                    created_after = last_ticket_id(env=env, logfile=logfile)
                for concurrency in CONCURRENCY:
                    total = max(50, int(REQUESTS[scenario] * scale))
                    log(f"{database}: {scenario} c={concurrency} n={total}")
                    run = measure(
                        database=database,
                        scenario=scenario,
                        base_url=server.base_url,
                        token=tokens.get(scenario, token),
                        concurrency=concurrency,
                        total=total,
                        make=make,
                        meter=meter,
                        client=client,
                        seconds=WRK_SECONDS * scale,
                    )
                    log(
                        f"    {run.rps:8.1f} req/s  p50 {run.p50_ms:7.1f} ms  "
                        f"p95 {run.p95_ms:7.1f} ms  p99 {run.p99_ms:7.1f} ms  "
                        f"errors {run.errors}  server CPU {run.server_cpu_ms:.2f} ms/request "
                        f"(app {run.app_cpu_ms:.2f})  "
                        f"(others used {run.other_cpu_cores:.2f} cores)"
                    )
                    for sample in run.error_samples:
                        log(f"    error: {sample}")
                    result.runs.append(run)
                if scenario == "ticket_create" and reuse:
                    removed = tickets_delete_after(created_after, env=env, logfile=logfile)
                    log(f"{database}: --reuse: removed the {removed} tickets the run created")
            if "screen_pop" in scenarios:
                result.screen_pop = screen_pop_phases(
                    server.base_url,
                    token,
                    rng,
                    env=env,
                    logfile=logfile,
                    database=database,
                    client=client,
                    seconds=SCREEN_POP_SECONDS * scale,
                )
            return result
        finally:
            server.stop()


def screen_pop_phases(
    base_url: str,
    token: str,
    rng: random.Random,
    *,
    env: dict[str, str],
    logfile: Path,
    database: str,
    client: str,
    seconds: float,
) -> dict[str, dict[str, Any]]:
    """The screen pop's two phases (bench/screenpop.py): 40 agents' browsers polling and a
    caller ringing them, first on a server doing nothing else, then with the agent queues
    loaded at c=8 alongside. The agents, sessions and calls are removed afterwards."""
    _seconds, output = kefu(["shell", "-c", screenpop.setup_code()], env=env, logfile=logfile)
    setup = json.loads(output.strip().splitlines()[-1])
    phases: dict[str, dict[str, Any]] = {}
    queue = ticket_queue_maker(rng)

    async def background(length: float) -> int:
        if client == "wrk":
            driven = await asyncio.to_thread(
                run_wrk,
                base_url=base_url,
                token=token,
                concurrency=8,
                total=WRK_TABLE,
                make=queue,
                seconds=length,
            )
            return len(driven.latencies)
        sample = await load(
            base_url=base_url,
            token=token,
            concurrency=8,
            total=WRK_TABLE * 10,  # more than it can send: the clock stops it
            make=queue,
            run_for=length,
        )
        return len(sample.latencies)

    try:
        for phase, busy in (("idle", None), ("busy", background)):
            log(
                f"{database}: screen_pop {phase}: {screenpop.AGENTS} agents polling every "
                f"{screenpop.POLL_SECONDS * 1000:.0f} ms, {screenpop.CALLS_PER_SECOND:g} calls/s"
                + (", ticket queues at c=8 alongside" if busy else "")
                + f", {seconds:.0f} s"
            )
            sample = asyncio.run(
                screenpop.run(
                    base_url=base_url,
                    secret=CTI_SECRET,
                    setup=setup,
                    seconds=seconds,
                    rng=rng,
                    background=busy,
                )
            )
            phases[phase] = screenpop.summary(sample)
            figures = phases[phase]
            log(
                f"    {figures['cards']} of {figures['rings']} rings popped, missed "
                f"{figures['missed']}; pop p50 {figures['pop_p50_ms']} ms, p95 "
                f"{figures['pop_p95_ms']} ms, max {figures['pop_max_ms']} ms; "
                f"{figures['polls']} polls (p95 {figures['poll_p95_ms']} ms); "
                f"event post p95 {figures['event_p95_ms']} ms; background requests "
                f"{figures['background_requests']}"
            )
            for error in figures["errors"]:
                log(f"    error: {error}")
    finally:
        _seconds, output = kefu(
            ["shell", "-c", screenpop.teardown_code(setup)], env=env, logfile=logfile
        )
        log(f"{database}: screen_pop: removed {output.strip().splitlines()[-1]}")
    return phases


# ---------------------------------------------------------------------------------------------
# report


def markdown(results: list[DatabaseResult]) -> str:
    lines = [
        "| Database | Scenario | Concurrency | Requests | Errors | Req/s "
        "| p50 ms | p95 ms | p99 ms | Server CPU ms/req | Other load | CPU probe ms |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for db in results:
        for run in db.runs:
            lines.append(
                f"| {db.database} | {run.scenario} | {run.concurrency} | {run.requests} | "
                f"{run.errors} | {run.rps:.0f} | {run.p50_ms:.1f} | {run.p95_ms:.1f} | "
                f"{run.p99_ms:.1f} | {run.server_cpu_ms:.2f} | {run.other_cpu_cores:.2f} | "
                f"{run.cpu_probe_ms:.0f} |"
            )
    lines += [
        "",
        "Other load: CPU cores used during the run by programs other than the bench "
        "(client, server, its database backends); the machine has "
        f"{os.cpu_count()} cores. CPU probe: milliseconds one core took for a fixed "
        "pure-Python loop just before the run (lower is faster; see cpu_probe_ms).",
    ]
    pops = [(db, phase, figures) for db in results for phase, figures in db.screen_pop.items()]
    if pops:
        lines += [
            "",
            "| Database | Screen pop | Agents polling | Rings | Cards | Missed | p50 ms | p95 ms "
            "| max ms | Poll p95 ms | Event post p95 ms | Background requests |",
            "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
        ]
        for db, phase, f in pops:
            lines.append(
                f"| {db.database} | {phase} | {f['agents']} | {f['rings']} | {f['cards']} | "
                f"{f['missed']} | {f['pop_p50_ms']} | {f['pop_p95_ms']} | {f['pop_max_ms']} | "
                f"{f['poll_p95_ms']} | {f['event_p95_ms']} | {f['background_requests']} |"
            )
        lines += [
            "",
            "Screen pop: from the start of the PBX's signed `ringing` post to the moment the "
            "ringing agent's poll (every 500 ms) brings the caller's card; busy = the agent "
            "queues loaded at c=8 alongside.",
        ]
    searches = [
        (db, r)
        for db in results
        for r in db.runs
        if r.scenario in ("search", "ticket_search", "ticket_queue") and r.by_kind
    ]
    if searches:
        lines += [
            "",
            "| Database | Scenario | Concurrency | Query kind | Requests | p50 ms | p95 ms |",
        ]
        lines += ["|---|---|--:|---|--:|--:|--:|"]
        for db, run in searches:
            for kind, figures in run.by_kind.items():
                lines.append(
                    f"| {db.database} | {run.scenario} | {run.concurrency} | {kind} | "
                    f"{figures['n']:.0f} | "
                    f"{figures['p50_ms']:.1f} | {figures['p95_ms']:.1f} |"
                )
    lines += [
        "",
        "| Database | `seed --size demo` | `seed --size large` (100,000 customers + "
        "2,000,000 order lines) | of which, per seeder | `recompute_tiers --now` "
        "| `evaluate_credit` | `monthly_report` (peak memory) |",
    ]
    lines += ["|---|--:|--:|---|--:|--:|--:|"]
    for db in results:
        if db.skipped:
            lines.append(f"| {db.database} | skipped: {db.skipped} | | | | | |")
            continue
        steps = ", ".join(f"{name} {sec:.1f} s" for name, sec in db.seed_large_steps.items())
        jobs = [
            (
                f"{db.jobs[name]:.1f} s"
                if db.jobs.get(name) is not None
                else db.jobs_note.get(name, "not run")
            )
            + (f" ({db.jobs_peak_mib[name]:.0f} MiB)" if db.jobs_peak_mib.get(name) else "")
            for name in JOBS
        ]
        lines.append(
            f"| {db.database} | {db.seed_demo_s:.1f} s | {db.seed_large_s:.1f} s | {steps} | "
            + " | ".join(jobs)
            + " |"
        )
    lines += ["", *targets(results)]
    return "\n".join(lines)


def targets(results: list[DatabaseResult]) -> list[str]:
    out = ["Targets:"]
    for db in results:
        if db.skipped:
            continue
        search8 = next((r for r in db.runs if r.scenario == "search" and r.concurrency == 8), None)
        if search8:
            verdict = "met" if search8.p95_ms < 100 and not search8.errors else "MISSED"
            out.append(
                f"- {db.database}: customer search p95 at concurrency 8 = "
                f"{search8.p95_ms:.1f} ms (target < 100 ms): {verdict}"
            )
        if db.database == "postgresql":
            creates = [r for r in db.runs if r.scenario == "create" and r.concurrency > 1]
            if creates:
                best = max(creates, key=lambda r: r.rps)
                verdict = "met" if best.rps >= 200 and not best.errors else "MISSED"
                out.append(
                    f"- postgresql: customer create = {best.rps:.0f} req/s at concurrency "
                    f"{best.concurrency} (target ≥ 200, aim 300): {verdict}"
                )
        for scenario, limit, what in (
            ("dashboard", 300, "supervisor dashboard refresh (manager, every team)"),
            ("ticket_queue", 100, "agent ticket queue first page"),
            ("ticket_detail", 100, "ticket detail"),
            ("ticket_search", 150, "ticket search (2-character word, number, mobile)"),
        ):
            run8 = next((r for r in db.runs if r.scenario == scenario and r.concurrency == 8), None)
            if run8:
                verdict = "met" if run8.p95_ms < limit and not run8.errors else "MISSED"
                out.append(
                    f"- {db.database}: {what} p95 at concurrency 8 = {run8.p95_ms:.1f} ms "
                    f"(target < {limit} ms, 1,000,000 tickets): {verdict}"
                )
        for phase, figures in db.screen_pop.items():
            ok = (
                figures["pop_p95_ms"] < 1000
                and not figures["missed"]
                and not figures["errors"]
                and figures["cards"]
            )
            out.append(
                f"- {db.database}: screen pop p95 ({phase}, {figures['agents']} agents polling) = "
                f"{figures['pop_p95_ms']} ms, {figures['missed']} missed of {figures['rings']} "
                f"(target < 1000 ms): {'met' if ok else 'MISSED'}"
            )
        if db.database == "postgresql":
            ticket_creates = [
                r for r in db.runs if r.scenario == "ticket_create" and r.concurrency > 1
            ]
            if ticket_creates:
                best = max(ticket_creates, key=lambda r: r.rps)
                verdict = "met" if best.rps >= 200 and not best.errors else "MISSED"
                out.append(
                    f"- postgresql: ticket create = {best.rps:.0f} req/s at concurrency "
                    f"{best.concurrency} (target ≥ 200, aim 300): {verdict}"
                )
        if db.database == "sqlite" and db.seed_large_s:
            verdict = "met" if db.seed_large_s < 300 else "MISSED"
            out.append(
                f"- sqlite: `kefu seed --size large` (100,000 customers, 2,000,000 order lines) "
                f"= {db.seed_large_s:.1f} s (target < 300 s): {verdict}"
            )
        if "monthly_report" in db.jobs or "monthly_report" in db.jobs_note:
            limit = 20 if db.database == "postgresql" else 40
            seconds = db.jobs.get("monthly_report")
            peak = db.jobs_peak_mib.get("monthly_report")
            if seconds is None:
                out.append(
                    f"- {db.database}: `kefu monthly_report` (target < {limit} s, < 1 GiB): "
                    f"{db.jobs_note.get('monthly_report')}"
                )
            else:
                verdict = "met" if seconds < limit and (peak or 0) < 1024 else "MISSED"
                out.append(
                    f"- {db.database}: monthly report for {REPORT_MONTH} (100,000 customers, "
                    f"2,000,000 order lines, 1,000,000 tickets) = {seconds:.1f} s, peak memory "
                    f"{peak:.0f} MiB (target < {limit} s, < 1024 MiB): {verdict}"
                )
        if db.database == "postgresql":
            tiers = db.jobs.get("recompute_tiers")
            if tiers is None:
                out.append(
                    "- postgresql: `kefu recompute_tiers --now` (target < 30 s): "
                    f"{db.jobs_note.get('recompute_tiers', 'not run')}"
                )
            else:
                verdict = "met" if tiers < 30 else "MISSED"
                out.append(
                    f"- postgresql: `kefu recompute_tiers --now` with 100,000 customers and "
                    f"2,000,000 order lines = {tiers:.1f} s (target < 30 s): {verdict}"
                )
    return out


def machine() -> dict[str, Any]:
    cpu = platform.processor()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "httpx": httpx.__version__,
    }


# ---------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--databases",
        default="sqlite,postgresql",
        help="comma-separated: sqlite, postgresql (default both)",
    )
    parser.add_argument(
        "--scale", type=float, default=1.0, help="multiply the requests per run (default 1)"
    )
    parser.add_argument("--seed", type=int, default=2026, help="random seed for the load")
    parser.add_argument(
        "--scenarios",
        default=",".join(SCENARIOS),
        help=f"comma-separated scenarios to run (default all: {', '.join(SCENARIOS)})",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help=f"keep the seeded database ({PG_DATABASE} on PostgreSQL, "
        f"{SQLITE_REUSE_FILE.relative_to(ROOT)} on SQLite) after the run and, when it exists, "
        "skip the seeding and the batch jobs (for repeated runs while tuning)",
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=QUIET_WAIT,
        help=f"seconds to wait for a quiet machine before each run (default {QUIET_WAIT:.0f})",
    )
    parser.add_argument(
        "--client",
        choices=("wrk", "httpx"),
        default="wrk" if WRK else "httpx",
        help="the load client: wrk (C, light; the default when installed) or httpx (Python; "
        "gives per-query figures for the searches)",
    )
    parser.add_argument(
        "--jobs",
        default="",
        help=f"with --reuse: batch jobs to run on the kept database anyway ({', '.join(JOBS)})",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="threads per gunicorn worker (`kefu run --threads`; 1 = the sync worker; "
        "default: kefu run's own default)",
    )
    args = parser.parse_args()
    global WEB_THREADS
    WEB_THREADS = args.threads
    jobs = tuple(name.strip() for name in args.jobs.split(",") if name.strip())
    if unknown_jobs := [name for name in jobs if name not in JOBS]:
        parser.error(f"unknown job(s): {', '.join(unknown_jobs)}")
    CpuMeter.quiet_wait = args.quiet_wait
    scenarios = tuple(name.strip() for name in args.scenarios.split(",") if name.strip())
    if unknown := [name for name in scenarios if name not in SCENARIOS]:
        parser.error(f"unknown scenario(s): {', '.join(unknown)}")

    def on_term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)

    started = time.monotonic()
    results: list[DatabaseResult] = []
    try:
        for database in [d.strip() for d in args.databases.split(",") if d.strip()]:
            if database not in ("sqlite", "postgresql"):
                parser.error(f"unknown database {database!r}")
            if database == "postgresql" and (why := pg_available()):
                log(f"skipping PostgreSQL: {why}")
                results.append(DatabaseResult(database, 0, 0, None, 0, [], skipped=why))
                continue
            results.append(
                bench_database(
                    database,
                    scale=args.scale,
                    rng=random.Random(args.seed),
                    scenarios=scenarios,
                    reuse=args.reuse,
                    client=args.client,
                    extra_jobs=jobs,
                )
            )
    finally:
        stop_all_servers()

    table = markdown(results)
    print(table)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS_DIR / f"bench-{stamp}.json"
    path.write_text(
        json.dumps(
            {
                "started_at": stamp,
                "duration_s": round(time.monotonic() - started, 1),
                "machine": machine(),
                "client": args.client,
                "command": " ".join(sys.argv),
                "server": "kefu run --no-worker --workers 2 (gunicorn, KEFU_DEBUG=0)"
                + (f" --threads {WEB_THREADS}" if WEB_THREADS else " (default threads)")
                + f"; PostgreSQL with Redis at {REDIS_URL}",
                "requests_per_run": {k: max(50, int(v * args.scale)) for k, v in REQUESTS.items()},
                "results": [asdict(r) for r in results],
                "markdown": table,
            },
            ensure_ascii=False,
            indent=1,
        ),
        encoding="utf-8",
    )
    log(f"raw results: {path.relative_to(ROOT)}; total {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
