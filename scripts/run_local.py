"""Start web + Celery worker + Celery beat together; Ctrl-C stops all three.

Used by `make run`. Environment: PORT (default 8000), and everything settings.py reads.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fulfillment.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings

    from orders.management.commands.seed_demo import DEMO_PASSWORD, STAFF

    data_dir = Path(settings.DATA_DIR)
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        for key in ("data_folder_in", "processed_folder"):
            Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS[key]).mkdir(parents=True, exist_ok=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    port = os.environ.get("PORT", "8000")
    host = os.environ.get("HOST", "127.0.0.1")
    python = sys.executable
    celery = [python, "-m", "celery", "-A", "fulfillment"]
    commands = {
        "web": [python, "manage.py", "runserver", f"{host}:{port}", "--noreload"],
        "worker": [*celery, "worker", "--loglevel=INFO", "--concurrency=2", "--hostname=desk@%h"],
        "beat": [
            *celery,
            "beat",
            "--loglevel=INFO",
            f"--schedule={data_dir / 'celerybeat-schedule'}",
            f"--pidfile={data_dir / 'celerybeat.pid'}",
        ],
    }
    pidfile = data_dir / "celerybeat.pid"
    if pidfile.exists():
        pidfile.unlink()  # a stale pid file from a killed run would stop beat from starting
    procs = {}
    for name, cmd in commands.items():
        procs[name] = subprocess.Popen(cmd, cwd=ROOT)  # noqa: S603 - our own fixed commands
    logins = ", ".join([s[0] for s in STAFF] + ["admin"])
    print(
        f"\n  Fulfillment Desk is starting at http://{host}:{port}/\n"
        f"  Logins: {logins}   password: {DEMO_PASSWORD}\n"
        f"  Health: http://{host}:{port}/healthz   Admin: http://{host}:{port}/admin/\n"
        "  Press Ctrl-C to stop web, worker and beat.\n",
        flush=True,
    )

    stopping = False

    def stop(*_args):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    while not stopping:
        for name, proc in procs.items():
            if proc.poll() is not None:
                print(f"  {name} exited with code {proc.returncode}; stopping the others.", flush=True)
                exit_code = proc.returncode or 1
                stopping = True
                break
        time.sleep(0.5)
    for proc in procs.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for proc in procs.values():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
    print("  Stopped.", flush=True)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
