"""User faults on the real command line end in words and a non-zero exit code, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def _run(cfg: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "yuqing", "--config", str(cfg), *args],
                          capture_output=True, text=True, timeout=120)


def test_zero_byte_store_is_an_error_not_a_new_store(write_config, tmp_path):
    cfg = write_config()
    db = tmp_path / "yuqing.db"
    db.write_bytes(b"")
    result = _run(cfg, "status")
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Traceback" not in out
    assert "zero-byte" in out
    assert db.stat().st_size == 0  # nothing was written into it


def test_garbage_store_is_reported_in_words(write_config, tmp_path):
    cfg = write_config()
    (tmp_path / "yuqing.db").write_bytes(b"this is not a database at all\n" * 200)
    result = _run(cfg, "status")
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Traceback" not in out
    assert "yuqing.db" in out


# -- a store damaged in the middle, missing paths, read-only folders ------------------------------
def _out(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


def damaged_store(db: Path, posts: int = 3000) -> None:
    """A real store with posts, then garbage written over pages in the middle (the header intact)."""
    from yuqing.models import Post
    from yuqing.store import Store

    with Store(db) as store:
        store.add_posts([Post(url=f"http://news.example/{i}", source="news", title=f"芦山县 第{i}条",
                              text=f"芦山县 龙门乡 小区停水 {i} 天" * 5) for i in range(posts)])
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = db.stat().st_size
    with db.open("r+b") as fh:
        fh.seek((size // 2) // 4096 * 4096)
        fh.write(b"\xa5garbage\x00" * 3000)


def test_status_on_a_store_damaged_in_the_middle_exits_1_in_words(write_config, tmp_path):
    cfg = write_config()
    damaged_store(tmp_path / "yuqing.db")
    result = _run(cfg, "status")
    assert result.returncode == 1, _out(result)
    assert "Traceback" not in _out(result)
    assert "DAMAGED" in result.stderr and "quick_check" in result.stderr and "backup" in result.stderr
    as_json = _run(cfg, "status", "--json")
    assert as_json.returncode == 1 and "integrity" in as_json.stdout


def test_alerts_on_a_damaged_store_is_words_not_a_traceback(write_config, tmp_path):
    cfg = write_config()
    damaged_store(tmp_path / "yuqing.db")
    codes = {}
    for args in (("alerts",), ("alerts", "list", "--all"), ("deliver",), ("analyze",),
                 ("export", "posts", "--since", "2020-01-01", "--format", "csv", "--out", str(tmp_path / "p.csv"))):
        result = _run(cfg, *args)
        assert "Traceback" not in _out(result), args
        codes[args[0]] = result.returncode
        if result.returncode:  # a command that reads no damaged page may still succeed
            assert result.returncode == 1 and "Error:" in result.stderr and "damaged" in result.stderr, args
    assert codes["analyze"] == 1  # it reads every post: it meets the damage


def test_run_on_a_damaged_store_refuses_and_raises_a_health_alert(write_config, tmp_path):
    cfg = write_config('[alerts]\noutbox = "outbox"\n')
    damaged_store(tmp_path / "yuqing.db")
    result = _run(cfg, "run", "--for", "20s")
    assert result.returncode == 1, _out(result)
    assert "Traceback" not in _out(result)
    assert "damaged" in result.stderr
    [eml] = (tmp_path / "outbox").glob("*.eml")
    import email
    import email.policy

    msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert "数据库损坏" in str(msg["Subject"]) and "quick_check" in msg.get_body(("plain",)).get_content()


@pytest.mark.parametrize("args", [("status",), ("alerts",), ("deliver",), ("detect",), ("analyze",), ("digest",),
                                  ("cases", "list"), ("user", "list"), ("serve", "--bind", "127.0.0.1:0"),
                                  ("backtest", "--since", "2026-03-01")])
def test_commands_other_than_init_never_create_a_store(write_config, tmp_path, args):
    cfg = write_config()
    text = cfg.read_text(encoding="utf-8").replace('path = "yuqing.db"', 'path = "typo/yuqing.db"')
    cfg.write_text(text, encoding="utf-8")
    result = _run(cfg, *args)
    assert result.returncode == 1, (args, _out(result))
    assert "Traceback" not in _out(result)
    assert "no store at" in result.stderr and "typo/yuqing.db" in result.stderr
    assert not (tmp_path / "typo").exists()  # neither the folder nor a database


def test_init_creates_a_missing_folder_and_says_so_when_it_cannot(write_config, tmp_path):
    cfg = write_config()
    cfg.write_text(cfg.read_text(encoding="utf-8").replace('path = "yuqing.db"', 'path = "new/deeper/yuqing.db"'),
                   encoding="utf-8")
    made = _run(cfg, "init")
    assert made.returncode == 0 and (tmp_path / "new" / "deeper" / "yuqing.db").is_file(), _out(made)
    (tmp_path / "afile").write_text("x")
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("new/deeper/yuqing.db", "afile/yuqing.db"), encoding="utf-8")
    blocked = _run(cfg, "init")
    assert blocked.returncode == 1 and "Traceback" not in _out(blocked)
    assert "is a file, not a folder" in blocked.stderr


def test_run_where_the_daemon_lock_cannot_be_written_is_words(write_config, tmp_path):
    cfg = write_config()
    assert _run(cfg, "init").returncode == 0
    (tmp_path / "yuqing.db.daemon.lock").mkdir()  # what root sees of an unwritable lock: open() fails
    result = _run(cfg, "run", "--for", "5s")
    assert result.returncode == 1 and "Traceback" not in _out(result), _out(result)
    assert "cannot take the daemon lock" in result.stderr and "yuqing.db.daemon.lock" in result.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders: the lock-folder test covers it")
def test_run_in_a_read_only_folder_is_words(write_config, tmp_path):
    cfg = write_config()
    assert _run(cfg, "init").returncode == 0
    tmp_path.chmod(0o555)
    try:
        result = _run(cfg, "run", "--for", "5s")
    finally:
        tmp_path.chmod(0o755)
    assert result.returncode == 1 and "Traceback" not in _out(result), _out(result)
    assert "daemon.lock" in result.stderr or "writable" in result.stderr
