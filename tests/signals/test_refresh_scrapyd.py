"""`refresh` on the scrapyd engine: a job on a real scrapyd re-visits recent posts as a local child does."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from tests.conftest import Response
from tests.engines.conftest import ScrapydNode, deployed, scrapyd_node  # noqa: F401 - fixtures
from tests.signals.conftest import rows
from yuqing.models import Post, utcnow
from yuqing.store import Store

SOURCE = """
[crawl]
delay = "0s"
autothrottle = false
timeout = "60s"
request_timeout = "5s"
retries = 0
engine = "scrapyd"
scrapyd = ["{node}"]

[[sources]]
name = "county-api"
type = "json"
url = "{url}/api/list"
list_path = "data.items"
fields = {{ title = "title", text = "content", url = "link", reposts = "reposts", comments = "comments" }}
refresh = "48h"
"""


def test_a_scrapyd_job_revisits_the_recent_posts_and_never_the_old(site, tmp_path: Path,
                                                                   deployed: ScrapydNode) -> None:  # noqa: F811
    from tests.signals.conftest import CONFIG
    from yuqing import settings as settings_mod
    from yuqing.crawlers.runner import crawl_one

    site.routes["/api/list"] = Response('{"data": {"items": []}}', content_type="application/json")
    for n in (1, 9):
        site.routes[f"/api/post/{n}"] = Response(json.dumps({"title": f"芦山县 帖子{n}", "reposts": 700, "comments": 9}),
                                                 content_type="application/json")
    config = tmp_path / "yuqing.toml"
    base = CONFIG[:CONFIG.index("[crawl]")] + CONFIG[CONFIG.index("[alerts]"):]
    config.write_text(base + SOURCE.format(node=deployed.url, url=site.url), encoding="utf-8")
    settings = settings_mod.load(config)
    now = utcnow()
    with Store(settings.db_path) as store:
        store.add_posts([Post(url=f"{site.url}/api/post/1", source="county-api", title="芦山县 帖子1", text="一",
                              fetched_at=now - timedelta(hours=3), reposts=20, comments=1),
                         Post(url=f"{site.url}/api/post/9", source="county-api", title="芦山县 帖子9", text="九",
                              fetched_at=now - timedelta(days=3), reposts=1)])
    stats = crawl_one(settings, "county-api", timeout=60)
    assert stats.error is None, stats.error
    paths = [p for _, p in site.requests]
    assert "/api/post/1" in paths and "/api/post/9" not in paths
    assert rows(settings, "SELECT reposts, comments FROM posts WHERE url = ?", [f"{site.url}/api/post/1"]) == [
        {"reposts": 700, "comments": 9}]
    assert rows(settings, "SELECT count(*) AS n FROM engagement_observations")[0]["n"] == 1
