"""Service tests: real PostgreSQL, Redis, Celery worker processes and `make run` itself.

Each test says what it needs through ``require_service``: locally a missing service skips the
test with the reason; in CI (FD_REQUIRE_SERVICES=1) it fails it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from django.db import connection

from fulfillment.celery import app as celery_app
from tests.conftest import require_service

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def postgres(db):
    """The test database is PostgreSQL (DATABASE_URL=postgres://…)."""
    require_service(
        connection.vendor == "postgresql",
        f"needs PostgreSQL: set DATABASE_URL=postgres://… (the test database is {connection.vendor})",
    )
    return connection


@pytest.fixture
def redis_url():
    url = os.environ.get("REDIS_URL", "")
    require_service(url.startswith(("redis://", "rediss://")), "needs Redis: set REDIS_URL=redis://…")
    return url


def database_url_for(settings_dict: dict) -> str:
    """A postgres:// URL for the database a Django connection points at (the test database)."""
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    if host.startswith("/"):  # a Unix socket directory
        host = quote(host, safe="")
    port = settings_dict.get("PORT") or "5432"
    return f"postgres://{auth}{host}:{port}/{quote(settings_dict['NAME'], safe='')}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(
    predicate: Callable[[], object],
    *,
    timeout: float,
    interval: float = 0.25,
    what: str = "condition",
    log: Path | None = None,
    process: subprocess.Popen | None = None,
):
    """Poll ``predicate`` until it returns something truthy.

    Fails after ``timeout`` seconds, or as soon as ``process`` has exited, with ``log``'s tail.
    """
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None

    def details() -> str:
        return f"\n--- {log.name} ---\n{tail(log)}" if log else ""

    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            pytest.fail(f"exited with code {process.returncode} while waiting for {what}{details()}")
        try:
            result = predicate()
        except Exception as exc:  # the thing polled may not be up yet
            last_error = exc
        else:
            if result:
                return result
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what} (last error: {last_error!r}){details()}")


def group_members(pgid: int) -> list[str]:
    """Live (non-zombie) processes in a process group, as "pid command" strings."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            raw = stat.read_text()
            comm_end = raw.rindex(")")
            fields = raw[comm_end + 2 :].split()
            state, pgrp = fields[0], int(fields[2])
            if pgrp == pgid and state != "Z":
                cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                members.append(f"{stat.parent.name} {cmdline.strip()[:160]}")
    return members


def stop_group(proc: subprocess.Popen, *, sig: int = signal.SIGTERM, timeout: float = 20) -> list[str]:
    """Signal a process group, wait for it to empty; SIGKILL what is left. Returns what was left."""
    pgid = proc.pid
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None and not group_members(pgid):
            return []
        time.sleep(0.2)
    leftover = group_members(pgid)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)
    return leftover or (["(the main process)"] if proc.returncode is None else [])


def tail(path: Path, lines: int = 60) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def child_env(**overrides: str | None) -> dict[str, str]:
    """This process's environment minus what pytest-django put there, plus ``overrides`` (None removes)."""
    env = dict(os.environ)
    for name in ("DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE", "PYTEST_CURRENT_TEST", "PYTEST_VERSION"):
        env.pop(name, None)
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def private_queue(monkeypatch) -> str:
    """A queue of this test's own: the test process sends to it (task_default_queue) and the
    worker and beat processes it starts read and send to it (FD_CELERY_QUEUE)."""
    queue = f"fd-test-{uuid.uuid4().hex[:12]}"
    monkeypatch.setitem(celery_app.conf, "task_default_queue", queue)
    return queue


def service_env(*, redis_url: str, tmp_path: Path, queue: str, **extra: str) -> dict[str, str]:
    """The environment of a worker or beat process of the tests: the test database, this Redis, the queue."""
    return child_env(
        DATABASE_URL=database_url_for(connection.settings_dict),
        REDIS_URL=redis_url,
        DJANGO_DEBUG="1",
        DJANGO_SETTINGS_MODULE="fulfillment.settings",
        FD_DATA_DIR=str(tmp_path / "data"),
        FD_CELERY_QUEUE=queue,
        **extra,
    )


@contextlib.contextmanager
def celery_worker(
    *,
    redis_url: str,
    tmp_path: Path,
    monkeypatch,
    queue: str = "",
    name: str = "worker",
    pool: str = "solo",
    concurrency: int = 1,
    env: dict[str, str] | None = None,
):
    """A real `celery worker` process on its own queue (a worker of a `make run` on the same
    Redis must not take these messages), against the test database. Yields (process, log).

    ``queue``: share one (see ``private_queue``) between several workers and beat processes;
    ``name`` names the log; ``env`` adds variables (e.g. FD_JOB_MODULES)."""
    require_service(
        connection.vendor == "postgresql",
        "needs PostgreSQL (DATABASE_URL=postgres://…): a worker process cannot reach the in-memory SQLite test DB",
    )
    queue = queue or private_queue(monkeypatch)
    monkeypatch.setitem(celery_app.conf, "task_default_queue", queue)
    env = service_env(redis_url=redis_url, tmp_path=tmp_path, queue=queue, **(env or {}))
    log = tmp_path / f"{name}.log"
    command = [
        *(sys.executable, "-m", "celery", "-A", "fulfillment", "worker"),
        *(
            f"--pool={pool}",
            f"--concurrency={concurrency}",
            f"--queues={queue}",
            f"--hostname=fdtest-{name}-{queue}@%h",
        ),
        *("--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO"),
    ]

    def forget_queue() -> None:
        client = redis.Redis.from_url(redis_url)
        client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
        client.close()

    with service_process(command, env=env, log=log, what="worker", after=forget_queue) as running:
        yield running


@contextlib.contextmanager
def service_process(command: list[str], *, env: dict[str, str], log: Path, what: str, after=None):
    """Run ``command`` in its own process group with its output in ``log``; SIGTERM it at the
    end (then ``after()``) and fail if anything of it outlives that. Yields (process, log)."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield process, log
    finally:
        leftover = stop_group(process, timeout=15)
        if after is not None:
            after()
    assert leftover == [], f"{what} did not stop on SIGTERM: {leftover}\n{tail(log)}"


@contextlib.contextmanager
def celery_beat(*, redis_url: str, tmp_path: Path, queue: str, name: str = "beat", env: dict[str, str] | None = None):
    """A real `celery beat` process sending its schedule to ``queue`` (FD_SWEEP_SECONDS=1 makes
    the job sweep run every second). Yields (process, log)."""
    require_service(connection.vendor == "postgresql", "needs PostgreSQL (DATABASE_URL=postgres://…)")
    log = tmp_path / f"{name}.log"
    command = [
        *(sys.executable, "-m", "celery", "-A", "fulfillment", "beat", "--loglevel=INFO"),
        *(f"--schedule={tmp_path / (name + '-schedule')}", f"--pidfile={tmp_path / (name + '.pid')}"),
    ]
    env = service_env(redis_url=redis_url, tmp_path=tmp_path, queue=queue, FD_SWEEP_SECONDS="1", **(env or {}))
    with service_process(command, env=env, log=log, what="beat") as running:
        yield running


class RedisServer:
    """A private `redis-server` on a free port that a test may stop and start again (same port,
    empty: it keeps nothing on disk)."""

    def __init__(self, tmp_path: Path):
        require_service(shutil.which("redis-server") is not None, "needs the redis-server program")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log = tmp_path / f"redis-{self.port}.log"
        self.process: subprocess.Popen | None = None

    def ping(self) -> bool:
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1, socket_timeout=1)
        try:
            return bool(client.ping())
        finally:
            client.close()

    def start(self) -> None:
        command = ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        wait_until(self.ping, timeout=20, what=f"redis-server on port {self.port}", log=self.log, process=self.process)

    def stop(self) -> None:
        if self.process is not None:
            leftover = stop_group(self.process, timeout=10)
            self.process = None
            assert leftover == [], f"redis-server did not stop: {leftover}"


@contextlib.contextmanager
def redis_server(tmp_path: Path):
    """Start a private Redis (see ``RedisServer``); stopped at the end whatever happened."""
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def use_broker(url: str, monkeypatch) -> None:
    """Send this process's Celery messages to ``url`` for the rest of the test (the app's
    connection and producer pools are dropped so the next message connects there)."""
    monkeypatch.setitem(celery_app.conf, "broker_url", url)
    monkeypatch.setattr(celery_app, "_pool", None)
    monkeypatch.setattr(celery_app.amqp, "_producer_pool", None)
