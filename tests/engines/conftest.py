"""A real scrapyd on 127.0.0.1: a free port, a temporary folder, this user, this Python."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import free_port

pytest.importorskip("scrapyd", reason="scrapyd is in the test extra: pip install -e '.[test]'")


@dataclass
class ScrapydNode:
    url: str
    root: Path
    proc: subprocess.Popen[bytes]

    def output(self) -> str:
        return (self.root / "scrapyd.out").read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def start_scrapyd(root: Path, timeout: float = 60.0) -> ScrapydNode:
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    (root / "scrapyd.conf").write_text(
        "[scrapyd]\n"
        "bind_address = 127.0.0.1\n"
        f"http_port = {port}\n"
        f"eggs_dir = {root / 'eggs'}\n"
        f"logs_dir = {root / 'logs'}\n"
        f"dbs_dir = {root / 'dbs'}\n"
        "jobs_to_keep = 100\n"
        "poll_interval = 0.2\n"
        "max_proc = 2\n",
        encoding="utf-8",
    )
    with open(root / "scrapyd.out", "wb") as out:
        # scrapyd reads ./scrapyd.conf: it runs in the temporary folder, in a process group of its own
        proc = subprocess.Popen([sys.executable, "-m", "scrapyd"], cwd=root, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    node = ScrapydNode(f"http://127.0.0.1:{port}", root, proc)
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{node.url}/daemonstatus.json", timeout=2) as response:
                if json.loads(response.read()).get("status") == "ok":
                    return node
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            node.stop()
            raise RuntimeError(f"scrapyd did not start:\n{node.output()[-3000:]}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def scrapyd_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScrapydNode]:
    node = start_scrapyd(tmp_path_factory.mktemp("scrapyd"))
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture(scope="module")
def deployed(scrapyd_node: ScrapydNode) -> ScrapydNode:
    """The node with yuqing's project deployed (as `yuqing scrapyd deploy` does it)."""
    from yuqing.crawlers.engines.project import deploy

    results = deploy([scrapyd_node.url])
    assert [r.error for r in results] == [None], scrapyd_node.output()[-3000:]
    return scrapyd_node
