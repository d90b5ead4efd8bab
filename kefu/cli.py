"""The `kefu` console command.

kefu run [--port 8000] [--workers N] [--threads T]
                                        production server (gunicorn) plus a task worker
kefu worker                             the Huey consumer alone
kefu seed --size demo|large [--seed N]  demo data
kefu <any Django management command>    e.g. kefu migrate, kefu createsuperuser
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Sequence


def _setup_env() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings")


def manage(argv: Sequence[str]) -> None:
    _setup_env()
    from django.core.management import execute_from_command_line

    execute_from_command_line(list(argv))


def main() -> None:
    argv = sys.argv[1:]
    command = argv[0] if argv else "help"
    if command == "worker":
        manage(["kefu", "run_huey", *argv[1:]])
    elif command == "help":
        print(__doc__)  # noqa: T201
        manage(["kefu", "help"])
    else:
        manage(["kefu", *argv])


def run_server(*, host: str, port: int, workers: int, threads: int = 1, with_worker: bool) -> int:
    """gunicorn serving kefu.wsgi, and (unless told not to) a Huey consumer beside it.

    With ``threads`` > 1 each worker process serves that many requests at once on threads
    (gunicorn's gthread worker): while one request waits for the database, another runs.
    Both are children of this process; Ctrl-C or SIGTERM stops both.
    """
    _setup_env()
    children: list[subprocess.Popen[bytes]] = []
    if with_worker:
        children.append(subprocess.Popen([sys.executable, "-m", "kefu.cli", "worker"]))
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "kefu.wsgi:application",
            "--bind",
            f"{host}:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--access-logfile",
            "-",
            "--graceful-timeout",
            "10",
        ]
    )
    children.append(server)

    def stop(signum: int, frame: object) -> None:
        for child in children:
            if child.poll() is None:
                child.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        code = server.wait()
    finally:
        stop(signal.SIGTERM, None)
        for child in children:
            child.wait(timeout=15)
    return code


if __name__ == "__main__":
    main()
