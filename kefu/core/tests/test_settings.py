"""Settings come from the environment: each case runs in a fresh interpreter with its own env."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

PROBE = """
import django, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings")
django.setup()
from django.conf import settings
from huey.contrib.djhuey import HUEY
print(type(HUEY).__name__, settings.DEBUG, settings.DATABASES["default"]["ENGINE"])
"""


def _run(code: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KEFU_")}
    clean.update({"KEFU_VAR_DIR": str(tmp_path), **env})
    clean.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "-c", code], env=clean, capture_output=True, text=True, timeout=60
    )


def test_defaults_are_sqlite_sqlitehuey_and_debug_off(tmp_path: Path) -> None:
    result = _run(PROBE, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["SqliteHuey", "False", "django.db.backends.sqlite3"]
    assert (tmp_path / "secret_key").exists()


def test_database_url_selects_postgresql(tmp_path: Path) -> None:
    result = _run(PROBE, tmp_path, KEFU_DATABASE_URL="postgres://kefu@db.example/kefu")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[2] == "kefu.core.postgresql"  # Django's, with a cheaper check


def test_a_malformed_boolean_stops_start_up_with_a_clear_message(tmp_path: Path) -> None:
    result = _run(PROBE, tmp_path, KEFU_DEBUG="maybe")
    assert result.returncode != 0
    assert "KEFU_DEBUG must be one of" in result.stderr


def test_deploy_check_is_clean_with_debug_off(tmp_path: Path) -> None:
    code = (
        "from kefu.cli import manage; "
        "manage(['kefu', 'check', '--deploy', '--fail-level', 'WARNING'])"
    )
    result = _run(code, tmp_path, KEFU_SECRET_KEY="x" * 60 + "-a-long-random-production-secret")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def _redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        return False
    return True


def test_redis_url_runs_the_task_queue_on_redis(tmp_path: Path) -> None:
    if not _redis_up():
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    # given KEFU_REDIS_URL, when a task is enqueued, then it sits in Redis until a worker runs it
    code = (
        PROBE
        + """
HUEY.flush()
from kefu.api.tasks import tokens_purge_expired_task
HUEY.enqueue(tokens_purge_expired_task.s())
print("pending", HUEY.pending_count())
HUEY.flush()
"""
    )
    result = _run(code, tmp_path, KEFU_REDIS_URL="redis://127.0.0.1:6379/15")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[0] == "RedisHuey"
    assert lines[1] == "pending 1"


def test_the_redis_cache_keeps_one_client_and_still_works() -> None:
    if not _redis_up():
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    from kefu.core.cache import RedisCache

    cache = RedisCache("redis://127.0.0.1:6379/14", {"KEY_PREFIX": "kefu-test-cache"})
    try:
        inner: Any = cache._cache  # type: ignore[attr-defined]
        client = inner.get_client("a")
        assert inner.get_client("b", write=True) is client  # one server: one client
        assert cache.add("a", {"x": 1}, 60)
        assert not cache.add("a", {"x": 2}, 60)
        cache.set("n", 1, 60)
        assert cache.incr("n") == 2
        assert cache.get_many(["a", "n", "missing"]) == {"a": {"x": 1}, "n": 2}
        cache.delete_many(["a", "n"])
        assert cache.get("a", "gone") == "gone"
    finally:
        cache.clear()
