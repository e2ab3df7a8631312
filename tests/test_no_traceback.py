"""User faults on the real command line end in words and a non-zero exit code, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


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
