"""Configuration from KEFU_* variables: bad values stop the start, the secret key is stable."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest

from kefu.core.env import env_bool, env_int, env_list, env_secret, env_str, secret_key


@pytest.fixture(autouse=True)
def _no_configured_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KEFU_SECRET_KEY", raising=False)
    monkeypatch.delenv("KEFU_SECRET_KEY_FILE", raising=False)


@pytest.mark.parametrize("raw", ["1", "true", "TRUE", " yes ", "on", "On"])
def test_env_bool_reads_the_usual_spellings_of_true(
    monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    monkeypatch.setenv("KEFU_TEST_FLAG", raw)
    assert env_bool("KEFU_TEST_FLAG", False) is True


@pytest.mark.parametrize("raw", ["0", "false", "No", "off"])
def test_env_bool_reads_the_usual_spellings_of_false(
    monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    monkeypatch.setenv("KEFU_TEST_FLAG", raw)
    assert env_bool("KEFU_TEST_FLAG", True) is False


@pytest.mark.parametrize("default", [True, False])
def test_env_bool_treats_an_empty_value_as_unset(
    monkeypatch: pytest.MonkeyPatch, default: bool
) -> None:
    # KEFU_HTTPS= in a unit file must not quietly switch secure cookies off
    monkeypatch.setenv("KEFU_TEST_FLAG", "  ")
    assert env_bool("KEFU_TEST_FLAG", default) is default


@pytest.mark.parametrize("default", [True, False])
def test_env_bool_falls_back_to_the_default_when_unset(
    monkeypatch: pytest.MonkeyPatch, default: bool
) -> None:
    monkeypatch.delenv("KEFU_TEST_FLAG", raising=False)
    assert env_bool("KEFU_TEST_FLAG", default) is default


@pytest.mark.parametrize("raw", ["maybe", "2", "y", "enabled", "truee"])
def test_env_bool_refuses_a_value_it_cannot_read(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    # given a typo that would otherwise silently mean "off"
    monkeypatch.setenv("KEFU_TEST_FLAG", raw)
    # when / then: the error names the variable and the value
    with pytest.raises(ValueError, match=rf"KEFU_TEST_FLAG.*{raw!r}"):
        env_bool("KEFU_TEST_FLAG", True)


def test_env_int_reads_an_integer_and_uses_the_default_when_unset_or_blank(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KEFU_TEST_N", " 42 ")
    assert env_int("KEFU_TEST_N", 7) == 42
    monkeypatch.setenv("KEFU_TEST_N", "  ")
    assert env_int("KEFU_TEST_N", 7) == 7
    monkeypatch.delenv("KEFU_TEST_N")
    assert env_int("KEFU_TEST_N", 7) == 7


@pytest.mark.parametrize("raw", ["abc", "1.5", "10s", "0x10", "一"])
def test_env_int_refuses_a_value_that_is_not_an_integer(
    monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    monkeypatch.setenv("KEFU_TEST_N", raw)
    with pytest.raises(ValueError, match="KEFU_TEST_N must be an integer"):
        env_int("KEFU_TEST_N", 7)


def test_env_list_splits_on_commas_and_drops_blanks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEFU_TEST_HOSTS", " a.example , ,b.example,")
    assert env_list("KEFU_TEST_HOSTS", ["x"]) == ["a.example", "b.example"]
    monkeypatch.delenv("KEFU_TEST_HOSTS")
    assert env_list("KEFU_TEST_HOSTS", ["x"]) == ["x"]


def test_env_str_returns_the_default_only_when_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KEFU_TEST_S", raising=False)
    assert env_str("KEFU_TEST_S", "d") == "d"
    monkeypatch.setenv("KEFU_TEST_S", "")
    assert env_str("KEFU_TEST_S", "d") == ""


def test_env_secret_reads_the_file_named_by_the_file_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secret_file = tmp_path / "db_password"
    secret_file.write_text("s3cret\n", encoding="utf-8")
    monkeypatch.delenv("KEFU_TEST_PW", raising=False)
    monkeypatch.setenv("KEFU_TEST_PW_FILE", str(secret_file))
    assert env_secret("KEFU_TEST_PW") == "s3cret"
    # the variable itself wins over the file
    monkeypatch.setenv("KEFU_TEST_PW", "direct")
    assert env_secret("KEFU_TEST_PW") == "direct"


def test_secret_key_is_generated_once_and_reused(tmp_path: Path) -> None:
    # given an empty var directory (which does not exist yet)
    var_dir = tmp_path / "var"
    # when the settings are loaded twice
    first = secret_key(var_dir)
    second = secret_key(var_dir)
    # then the second start reads the key the first one wrote
    assert len(first) >= 50
    assert second == first
    key_file = var_dir / "secret_key"
    assert key_file.read_text(encoding="utf-8").strip() == first
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert [p.name for p in var_dir.iterdir()] == ["secret_key"]  # no temporary file left over


def test_secret_keys_of_two_installs_differ(tmp_path: Path) -> None:
    assert secret_key(tmp_path / "one") != secret_key(tmp_path / "two")


def test_processes_starting_together_agree_on_one_key(tmp_path: Path) -> None:
    # given many workers starting at the same moment on a fresh install
    var_dir = tmp_path / "var"
    start = threading.Barrier(16)
    keys: list[str] = []
    errors: list[BaseException] = []

    def boot() -> None:
        start.wait()
        try:
            keys.append(secret_key(var_dir))
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    workers = [threading.Thread(target=boot) for _ in range(16)]
    # when
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    # then nobody read a half-written (empty) key, and all use the same one
    assert errors == []
    assert len(keys) == 16
    assert len(set(keys)) == 1
    assert keys[0]


def test_an_empty_key_file_is_an_error_not_an_empty_key(tmp_path: Path) -> None:
    (tmp_path / "secret_key").write_text("", encoding="utf-8")
    with pytest.raises(ValueError, match="is empty"):
        secret_key(tmp_path)


def test_a_configured_key_wins_and_nothing_is_written(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KEFU_SECRET_KEY", "from-the-environment")
    assert secret_key(tmp_path / "var") == "from-the-environment"
    assert not (tmp_path / "var").exists()


def test_a_key_file_named_by_kefu_secret_key_file_is_used(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    mounted = tmp_path / "docker-secret"
    mounted.write_text("from-a-docker-secret\n", encoding="utf-8")
    monkeypatch.setenv("KEFU_SECRET_KEY_FILE", str(mounted))
    assert secret_key(tmp_path / "var") == "from-a-docker-secret"
