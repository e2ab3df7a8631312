"""What the CLI prints to people: `serve` on a port in use fails in words before claiming to serve."""

from __future__ import annotations

import socket
import subprocess
import sys


def test_serve_on_a_port_in_use_fails_in_words_without_saying_serving_on(write_config):
    config = write_config()
    init = subprocess.run([sys.executable, "-m", "yuqing", "--config", str(config), "init"], capture_output=True,
                          text=True, timeout=60)
    assert init.returncode == 0, init.stderr  # serve refuses a missing store before it binds
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "yuqing", "--config", str(config), "serve", "--bind",
                                 f"127.0.0.1:{port}"], capture_output=True, text=True, timeout=60)
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "serving on" not in out
    assert f"cannot listen on 127.0.0.1:{port}" in out and "in use" in out.lower()
    assert "Traceback" not in out


def test_crawl_progress_on_a_terminal_overwrites_its_status_line(monkeypatch, capsys):
    import sys

    from yuqing.crawlers.commands import Progress
    from yuqing.models import CrawlStats

    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    progress = Progress(["county-news", "weibo"])
    progress.finished(CrawlStats(source="weibo", fetched=3, matched=2, new=2))
    progress.finished(CrawlStats(source="county-news", error="HTTP 500 from http://x/"))
    out = capsys.readouterr().out
    assert "… 0/2 done, crawling" in out and "… 1/2 done, crawling" in out and "2/2" not in out
    lines = [line.split("\r\033[K")[-1] for line in out.split("\n")]
    assert lines[0].startswith("source") and lines[2].startswith("weibo") and lines[2].endswith("ok")
    assert lines[3].startswith("county-news") and lines[3].endswith("FAILED")


def test_crawl_progress_in_a_pipe_prints_only_the_table(monkeypatch, capsys):
    import sys

    from yuqing.crawlers.commands import Progress
    from yuqing.models import CrawlStats

    monkeypatch.setattr(sys.stdout, "isatty", lambda: False, raising=False)
    progress = Progress(["a"])
    progress.finished(CrawlStats(source="a"))
    out = capsys.readouterr().out
    assert "\r" not in out and "done, crawling" not in out and out.splitlines()[2].split()[-1] == "ok"


def test_check_notes_what_a_preset_still_needs(write_config):
    from click.testing import CliRunner

    from yuqing.cli import cli

    config = write_config('''
[[sources]]
name = "tieba-forum"
type = "tieba"
forum = "芦山"

[[sources]]
name = "tieba-ok"
type = "tieba"
forum = "芦山"
cookies = "BAIDUID=x; BDUSS=abc"

[[sources]]
name = "tieba-search"
type = "tieba"
keyword = "芦山"

[[sources]]
name = "weibo"
type = "weibo"
''')
    result = CliRunner().invoke(cli, ["--config", str(config), "check"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    after = {lines[i - 1].split()[0]: line for i, line in enumerate(lines) if "note:" in line}
    assert set(after) == {"tieba-forum", "weibo"}
    assert 'needs cookies = "BDUSS=..."' in after["tieba-forum"] and "/baidu/tieba/forum" in after["tieba-forum"]
    assert "has no cookie" in after["weibo"]
