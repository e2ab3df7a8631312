"""A 100,000-row export streams in bounded memory: through the web app (CSV, measured with
tracemalloc while the client reads it chunk by chunk) and from the CLI (xlsx, peak RSS of the process
against a 10,000-row export). Exports stop at 100,000 rows and say so."""

from __future__ import annotations

import http.client
import subprocess
import sys
import tracemalloc
from datetime import date
from pathlib import Path

import pytest

from tests.digest.populate import SOURCES_TOML
from tests.reports.bulk import bulk_posts
from yuqing import settings as settings_mod
from yuqing.store import Store

ROWS = 100_000


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    folder = tmp_path_factory.mktemp("big")
    config = folder / "yuqing.toml"
    config.write_text('[locality]\nname = "芦山县"\naliases = ["芦山", "龙门乡"]\n[store]\npath = "big.db"\n'
                      f'[alerts]\noutbox = "{folder / "outbox"}"\n' + SOURCES_TOML, encoding="utf-8")
    settings = settings_mod.load(config)
    with Store(settings.db_path) as store:
        bulk_posts(store, ROWS + 50, date(2024, 4, 1), days=10)
        bulk_posts(store, 10_000, date(2024, 3, 1), days=1)  # a small day for the comparison
    return config, settings


def test_web_csv_export_of_100000_rows_streams_in_bounded_memory(big):
    from yuqing.web.app import make_server

    _, settings = big
    server = make_server(settings, "127.0.0.1", 0)
    server.start()
    try:
        tracemalloc.start()
        conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=120)
        conn.request("GET", "/search/export.csv?since=2024-04-01&until=2024-04-30")
        resp = conn.getresponse()
        assert resp.status == 200 and resp.getheader("Content-Length") is None
        assert resp.getheader("Transfer-Encoding") == "chunked"
        size = lines = 0
        head = resp.read(3)
        assert head == b"\xef\xbb\xbf"
        while chunk := resp.read(64 * 1024):  # read as it comes, never holding the body
            size += len(chunk)
            lines += chunk.count(b"\n")
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        conn.close()
    finally:
        server.shutdown()
    assert lines == ROWS + 1  # the header and exactly the cap: 50 posts left out
    assert size > 15_000_000
    assert peak < 8_000_000 and peak < size / 3, (peak, size)  # memory is a fraction of what was sent


def _export_peak_mb(config: Path, since: str, until: str, out: Path) -> float:
    # VmHWM, the process's own peak: getrusage's ru_maxrss in a forked child starts from the parent's
    # (pytest's, with every test before this one), which measured the suite instead of the export
    code = ("import re, sys; from yuqing.cli import cli\n"
            "try:\n    cli(sys.argv[1:])\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
            "print(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1))")
    done = subprocess.run([sys.executable, "-c", code, "--config", str(config), "export", "posts", "--since", since,
                           "--until", until, "--format", "xlsx", "--out", str(out)],
                          capture_output=True, text=True, check=True, timeout=600)
    assert "posts written" in done.stderr
    return int(done.stdout.strip().splitlines()[-1]) / 1024


def test_cli_xlsx_export_of_100000_rows_takes_no_more_memory_than_10000(big, tmp_path: Path):
    import openpyxl

    config, _ = big
    small = _export_peak_mb(config, "2024-03-01", "2024-03-01", tmp_path / "small.xlsx")
    large = _export_peak_mb(config, "2024-04-01", "2024-04-30", tmp_path / "large.xlsx")
    assert large - small < 30, (small, large)  # ten times the rows, about the same memory
    assert large < 500, large  # the export process's own peak (RUSAGE_CHILDREN would count every child of pytest)
    sheet = openpyxl.load_workbook(str(tmp_path / "large.xlsx"), read_only=True)["帖子"]
    assert sum(1 for _ in sheet.iter_rows(values_only=True)) == ROWS + 1
