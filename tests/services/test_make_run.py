"""`make run` itself, as a newcomer runs it: embedded SQLite + filesystem broker, web + worker + beat.

Needs no external service, so it always runs (CI included). Its data lives in a temp dir.
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from orders.management.commands.seed_demo import DEMO_PASSWORD

from .conftest import ROOT, child_env, free_port, group_members, stop_group, tail, wait_until

pytestmark = pytest.mark.services


def _get_json(url: str) -> dict | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return json.loads(response.read()) if response.status == 200 else None
    except urllib.error.HTTPError:
        return None


def test_make_run_serves_the_desk_and_stops_cleanly_on_ctrl_c(tmp_path):
    make = shutil.which("make")
    assert make, "make is not installed"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # A data dir that does not exist yet, as ``var/`` on a fresh clone (it is git-ignored).
    env = child_env(FD_DATA_DIR=str(tmp_path / "data"), PORT=str(port), DATABASE_URL=None, REDIS_URL=None)
    for name in ("DJANGO_DEBUG", "MAKEFLAGS", "MFLAGS", "MAKELEVEL"):  # as typed in a fresh terminal
        env.pop(name, None)
    log = tmp_path / "make-run.log"
    started = time.monotonic()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [make, "run"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    stopped = False
    try:
        # 1. Up: migrate + seed + web + worker + beat, on the embedded defaults.
        health = wait_until(
            lambda: _get_json(f"{base}/healthz"),
            timeout=120,
            interval=0.5,
            what="`make run` to answer /healthz",
            log=log,
            process=proc,
        )
        assert health["status"] == "ok", health
        assert health["database"] == {"ok": True, "detail": "sqlite"}
        assert health["broker"] == {"ok": True, "detail": "filesystem"}
        assert (tmp_path / "data" / "db.sqlite3").exists()
        startup = time.monotonic() - started

        # 2. A demo login works and the order list shows seeded orders.
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        with opener.open(f"{base}/accounts/login/", timeout=10) as response:
            html = response.read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
        assert any(cookie.name == "csrftoken" for cookie in jar)
        form = urllib.parse.urlencode(
            {"username": "rep1", "password": DEMO_PASSWORD, "csrfmiddlewaretoken": token, "next": "/orders/"}
        ).encode()
        request = urllib.request.Request(f"{base}/accounts/login/", data=form, headers={"Referer": base + "/"})
        with opener.open(request, timeout=10) as response:
            assert response.status == 200
            assert urllib.parse.urlparse(response.geturl()).path == "/orders/"
        with opener.open(f"{base}/orders/", timeout=10) as response:
            page = response.read().decode()
        assert "Priya Raman" in page  # rep1's name in the header: logged in
        assert re.search(r">FD\d{7}<", page), "no order number on /orders/"

        # 3. The worker is alive: a task sent through the filesystem broker reaches the database.
        def shell(code: str) -> str:
            command = [sys.executable, "manage.py", "shell", "-c", code]
            env_debug = {**env, "DJANGO_DEBUG": "1"}
            done = subprocess.run(command, cwd=ROOT, env=env_debug, check=True, timeout=60, capture_output=True)
            return done.stdout.decode().strip().rpartition("\n")[2]  # the last line (shell may greet first)

        shell(_SEND_HEARTBEAT)
        wait_until(
            lambda: _get_json(f"{base}/healthz")["last_beat_seconds_ago"] is not None,
            timeout=30,
            what="the worker to run the heartbeat task",
            log=log,
            process=proc,
        )

        # 4. The demo's scheduled work runs on its own: beat's reminder sweep flags the expedited
        # demo order at risk and a worker tells rep1 (beat → sweep → job → worker → notification).
        wait_until(
            lambda: shell(_AT_RISK_TOLD) == "told",
            timeout=150,
            interval=3,
            what="the demo order at risk to reach rep1",
            log=log,
            process=proc,
        )

        # 5. Ctrl-C (SIGINT to the whole foreground group, as a terminal sends it) stops everything.
        pgid = proc.pid
        assert len(group_members(pgid)) >= 4, group_members(pgid)  # make, run_local, web, worker, beat …
        ctrl_c = time.monotonic()
        leftover = stop_group(proc, sig=signal.SIGINT, timeout=20)
        stopped = True
        assert leftover == [], f"still running 20 s after Ctrl-C: {leftover}\n{tail(log)}"
        assert "Stopped." in log.read_text(errors="replace"), tail(log)
        print(f"make run: healthy after {startup:.1f} s, stopped {time.monotonic() - ctrl_c:.1f} s after Ctrl-C")
    finally:
        if not stopped:
            stop_group(proc, sig=signal.SIGTERM, timeout=10)


_SEND_HEARTBEAT = "from fulfillment.tasks import heartbeat; heartbeat.delay()"
_AT_RISK_TOLD = (
    "from fulfillment.models import Notification; from inquiries.models import Inquiry; "
    "from inquiries.management.commands.seed_demo_scheduled import AT_RISK_SUBJECT as S; "
    "o = Inquiry.objects.get(subject=S).orders.get(); "
    "told = Notification.objects.filter(recipient__username='rep1', key__startswith=f'at-risk:{o.pk}:'); "
    "print('told' if o.risk_flagged_at and told.exists() else 'waiting')"
)
