"""The Scrapy project scrapyd runs: built as an egg in memory, uploaded to each node.

The egg is thin on purpose: a settings module and a spider named "yuqing" that is
`yuqing.crawlers.engines.job.JobSpider`. The spiders, pipelines and store code are those of the
yuqing installed beside scrapyd on the node (`pip install yuqing` there), so the egg never carries a
second, diverging copy of them, and one egg serves every source (the source travels with each job).
"""

from __future__ import annotations

import io
import logging
import time
import zipfile
from dataclasses import dataclass

from yuqing import __version__
from yuqing.crawlers.engines.node import Node, NodeError

logger = logging.getLogger(__name__)

PROJECT = "yuqing"
SPIDER = "yuqing"
PACKAGE = "yuqing_scrapyd"

_FILES = {
    f"{PACKAGE}/__init__.py": '"""yuqing\'s crawl jobs for scrapyd (built by `yuqing scrapyd deploy`)."""\n',
    f"{PACKAGE}/settings.py": (
        "from yuqing.crawlers.engines.job import PROJECT_SETTINGS as _SETTINGS\n\n"
        "globals().update(_SETTINGS)\n"
    ),
    f"{PACKAGE}/spiders.py": (
        "from yuqing.crawlers.engines.job import JobSpider\n\n\n"
        "class YuqingSpider(JobSpider):\n"
        f"    name = {SPIDER!r}\n"
    ),
    "EGG-INFO/entry_points.txt": f"[scrapy]\nsettings = {PACKAGE}.settings\n",
    "EGG-INFO/top_level.txt": f"{PACKAGE}\n",
    "EGG-INFO/zip-safe": "\n",
}


def egg_version(now: float | None = None) -> str:
    """The build's time in milliseconds: scrapyd runs the newest version, and keeps only
    [A-Za-z0-9_-] of a version's characters (so yuqing's dotted version goes in the egg's metadata)."""
    return str(int((time.time() if now is None else now) * 1000))


def build_egg(version: str) -> bytes:
    """The project as an egg (a zip with EGG-INFO), the way scrapyd's runner activates one."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as egg:
        egg.writestr("EGG-INFO/PKG-INFO", f"Metadata-Version: 2.1\nName: {PACKAGE}\nVersion: {version}\n"
                                          f"Summary: yuqing {__version__} crawl jobs\n")
        for name, text in _FILES.items():
            egg.writestr(name, text)
    return buf.getvalue()


@dataclass
class Deployed:
    node: str
    version: str = ""
    spiders: int = 0
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def deploy(nodes: list[str], *, timeout: float = 60.0) -> list[Deployed]:
    """Upload the egg to every node (addversion.json); one result each, a node's failure in words."""
    version = egg_version()
    egg = build_egg(version)
    results = []
    for url in nodes:
        node = Node(url, timeout=timeout)  # scrapyd lists the egg's spiders before it answers
        try:
            answer = node.post("addversion.json", {"project": PROJECT, "version": version, "egg": egg})
        except NodeError as exc:
            results.append(Deployed(url, version, error=str(exc)))
            continue
        spiders = int(answer.get("spiders") or 0)
        if spiders < 1:
            results.append(Deployed(url, version, error=(
                f"{url} took the egg but found no spider in it: is yuqing installed where scrapyd runs?")))
        else:
            results.append(Deployed(url, version, spiders))
        logger.info("deployed %s %s to %s: %s", PROJECT, version, url, results[-1].error or "ok")
    return results
