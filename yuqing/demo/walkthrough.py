"""`yuqing demo`: the whole product in two minutes, offline, on a sample site about an invented county.

1. writes a config in a fresh folder and starts the sample site (yuqing.demo.site) on 127.0.0.1;
2. runs the real daemon (`python -m yuqing --config ... run`) against it with short intervals;
3. the site plays a week of normal days (already there, with their own times), a few live posts,
   then a burst of complaints about a water outage (停水) across all three sources;
4. the daemon crawls, analyses, detects the spike and writes the alert email to the outbox;
5. the day's digest is built, the daemon stopped, and the demo says where to look.

The thresholds in the generated config are tuned to the story (see `config_text`): the spike is only
recognised once both the forum and the message board have been read, so whatever order the crawls
come in, the detection that fires sees the whole burst and raises one alert, at `EXPECTED_LEVEL`.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from yuqing.demo.posts import ALIASES, LOCALITY, TZ, timeline
from yuqing.demo.site import SampleSite

MARKER = ".yuqing-demo"
EXPECTED_LEVEL = "yellow"  # what the tuned config raises for the demo's incident (tests check it)
SOURCE_NAMES = {"forum": "qingxi-forum", "news": "qingxi-news", "wenzheng": "qingxi-wenzheng"}


def config_text(site_urls: dict[str, str], *, every: str = "10s", notify: Sequence[str] = (),
                crawl_timeout: str = "45s", sources: dict[str, str] | None = None, extra: str = "") -> str:
    """The demo's config: the three sample sources on short intervals, thresholds tuned to the story.

    `sources` adds TOML lines to a channel's source table (e.g. {"news": 'timeout = "4s"'});
    `extra` is appended (whole tables only: TOML forbids repeating one).
    """
    notify_list = ", ".join(f'"{u}"' for u in notify)
    more = {channel: "".join(f"\n    {line}" for line in (sources or {}).get(channel, "").splitlines()) for channel in SOURCE_NAMES}
    aliases = ", ".join(f'"{a}"' for a in ALIASES)
    text = f"""\
    # Written by `yuqing demo`: the sample site on 127.0.0.1 about the invented county {LOCALITY}.
    # Intervals are seconds instead of minutes so the story plays out in a minute or two.

    [locality]
    name = "{LOCALITY}"
    aliases = [{aliases}]

    [store]
    path = "yuqing.db"

    [crawl]
    delay = "0s"                 # our own loopback site: no need to be slow
    autothrottle = false
    timeout = "{crawl_timeout}"
    request_timeout = "10s"
    max_pages = 10               # enough to read the week of history on the first run
    retries = 0

    [[sources]]                  # 青溪论坛: residents' posts, an RSS feed
    name = "{SOURCE_NAMES['forum']}"
    type = "feed"
    url = "{site_urls['forum']}"
    every = "{every}"{more['forum']}

    [[sources]]                  # 青溪县融媒体中心: official news, list + detail pages
    name = "{SOURCE_NAMES['news']}"
    type = "html"
    url = "{site_urls['news']}"
    every = "{every}"{more['news']}
    match_all = true             # the county's own media: every item is local
    item = "ul.news-list li"
    fields = {{ title = "a::text", url = "a::attr(href)", time = ".date::text" }}
    detail = {{ text = "div.article", author = ".author::text" }}
    next_page = "a.next::attr(href)"

    [[sources]]                  # 青溪网络问政: messages to officials, a JSON API
    name = "{SOURCE_NAMES['wenzheng']}"
    type = "json"
    url = "{site_urls['wenzheng']}"
    every = "{every}"{more['wenzheng']}
    match_all = true             # the county's own board
    weight = 2.0                 # a message to officials weighs two posts in the warning level
    list_path = "data.items"
    fields = {{ title = "title", text = "content", url = "url", time = "created_at", author = "user.name", forum = "forum", state = "state" }}

    [alerts]
    # Tuned to the story. The burst is 24 complaints, 12 on the forum and 12 on the board.
    # - one window of 1 hour: the demo's last hour holds only its live posts and the burst;
    # - a spike counts from 16 negative posts, so neither source's half alone raises it: the
    #   detection that fires has read both and sees the whole burst -> one alert, one email, at a
    #   level that does not depend on the order of the crawls;
    # - its score (yuqing/alerts/levels.py): size log2(1 + (12 + 12 x 2 - baseline ~2.5) / 16) ~ 1.6,
    #   speed 1, share part ~0.8 -> ~3.4, the middle of the yellow band [2.5, 4.5) set here, so a
    #   post more or less read as negative does not change it: 黄色(III级).
    windows = ["1h"]
    min_count = 16
    level_scores = [2.5, 4.5, 5.5]
    p_value = 0.001
    min_share = 0.3
    source_silence = 60.0        # compressed time: a quiet minute is not a dead source
    notify = [{notify_list}]
    outbox = "outbox"
    retry = "5s"
    base_url = "http://127.0.0.1:8080"

    [digest]
    pages = "digests"
    to = ["leader@example.com"]

    [web]
    bind = "127.0.0.1:8080"

    [daemon]
    crawl_workers = 3
    pipeline_every = "30s"
    deliver_every = "5s"
    """
    return textwrap.dedent(text) + textwrap.dedent(extra)


@dataclass
class DemoResult:
    folder: Path
    config: Path
    alerts: list[dict[str, Any]] = field(default_factory=list)
    alert_emails: list[Path] = field(default_factory=list)
    digest_emails: list[Path] = field(default_factory=list)
    digest_page: Path | None = None
    daemon_exit: int | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def prepare_folder(folder: Path | None) -> Path:
    """A new temporary folder, or `folder` if it is empty or holds an earlier demo (which is cleared)."""
    if folder is None:
        path = Path(tempfile.mkdtemp(prefix="yuqing-demo-"))
    else:
        path = folder.expanduser().resolve()
        if path.exists() and any(path.iterdir()):
            if not (path / MARKER).exists():
                raise click.UsageError(f"{path} is not empty and holds no earlier demo: give an empty or new folder")
            for name in ("yuqing.db", "yuqing.db-wal", "yuqing.db-shm", "yuqing.db.daemon.lock", "daemon.log", "yuqing.toml"):
                (path / name).unlink(missing_ok=True)
            for sub in ("outbox", "digests"):
                for item in (path / sub).glob("*") if (path / sub).is_dir() else []:
                    item.unlink()
        path.mkdir(parents=True, exist_ok=True)
    (path / MARKER).write_text("a folder written by `yuqing demo`; it may be cleared by the next demo\n")
    return path


def _stores_counts(db: Path) -> dict[str, int]:
    from yuqing.store import Store

    if not db.exists():
        return {}
    try:
        with Store(db, readonly=True) as store:
            row = store.query(
                "SELECT count(*) AS posts, sum(analyzed_at IS NOT NULL) AS analysed, sum(label = 'negative') AS negative"
                " FROM posts")[0]
            alerts = int(store.scalar("SELECT count(*) FROM alerts WHERE kind != 'source'") or 0)
            return {"posts": int(row["posts"] or 0), "analysed": int(row["analysed"] or 0),
                    "negative": int(row["negative"] or 0), "alerts": alerts}
    except Exception:  # the daemon may be migrating or mid-transaction: try again next tick
        return {}


def _alerts(db: Path) -> list[dict[str, Any]]:
    from yuqing.store import Store

    with Store(db, readonly=True) as store:
        return store.query("SELECT id, kind, key, level, state, title, opened_at FROM alerts ORDER BY id")


def run_demo(folder: Path | None = None, minutes: float = 2.0, echo: Callable[[str], None] = click.echo) -> DemoResult:
    """Play the demo; returns what happened (problems in words when something did not)."""
    from yuqing.models import LEVEL_NAMES

    path = prepare_folder(folder)
    duration = max(30.0, minutes * 60.0)
    start = time.time()
    posts = timeline(start, duration)
    site = SampleSite(posts).start()
    config = path / "yuqing.toml"
    config.write_text(config_text(site.sources), encoding="utf-8")
    result = DemoResult(folder=path, config=config)
    db, outbox = path / "yuqing.db", path / "outbox"
    echo(f"yuqing demo: {LOCALITY} (an invented county), folder {path}")
    echo(f"  sample site {site.url}: {len(site.visible())} posts from the past week already online;")
    echo(f"  live posts from now on, a burst of complaints at about {duration * 0.35:.0f}s. Watching for {duration:.0f}s.")
    log = (path / "daemon.log").open("wb")
    daemon = subprocess.Popen([sys.executable, "-m", "yuqing", "--config", str(config), "run"],
                              stdout=log, stderr=subprocess.STDOUT, cwd=path)
    echo(f"  daemon started: pid {daemon.pid} (log: {path / 'daemon.log'})")
    shown: set[int] = {p.id for p in site.visible()}
    last: dict[str, int] = {}
    seen_mail: set[Path] = set()
    incident_told = False
    try:
        while True:
            elapsed = time.time() - start
            stamp = f"[{int(elapsed) // 60:02d}:{int(elapsed) % 60:02d}]"
            if daemon.poll() is not None:
                result.problems.append(f"the daemon stopped by itself (exit {daemon.returncode}); see {path / 'daemon.log'}")
                break
            fresh = [p for p in site.visible() if p.id not in shown]
            shown |= {p.id for p in fresh}
            incident = [p for p in fresh if p.kind == "incident"]
            if incident and not incident_told:
                incident_told = True
                echo(f"{stamp} INCIDENT on the site: {len(incident)} posts about a water outage (停水) in 溪口镇 appear at once")
            for post in fresh:
                if post.kind != "incident":
                    echo(f"{stamp} site: new {post.channel} post: {post.title}")
            counts = _stores_counts(db)
            if counts and counts != last:
                echo(f"{stamp} store: {counts['posts']} posts, {counts['analysed']} analysed, "
                     f"{counts['negative']} negative, {counts['alerts']} alerts")
                last = counts
            for mail in sorted(outbox.glob("*.eml")) if outbox.is_dir() else []:
                if mail not in seen_mail:
                    seen_mail.add(mail)
                    echo(f"{stamp} email written: {mail.relative_to(path)}")
            alerted = any("-alert-" in m.name for m in seen_mail)
            story_over = elapsed > duration * 0.9
            if (alerted and story_over) or elapsed > duration + 60:
                break
            time.sleep(1.0)
        if daemon.poll() is None:
            _build_digest(config, path, echo)
            deadline = time.time() + 30
            while time.time() < deadline and not any("-digest-" in m.name for m in outbox.glob("*.eml")):
                time.sleep(0.5)
            daemon.send_signal(signal.SIGTERM)
            try:
                result.daemon_exit = daemon.wait(timeout=60)
            except subprocess.TimeoutExpired:
                daemon.kill()
                result.daemon_exit = daemon.wait()
                result.problems.append("the daemon did not stop within 60s of SIGTERM")
            echo(f"  daemon stopped (exit {result.daemon_exit})")
            if result.daemon_exit != 0:
                result.problems.append(f"the daemon exited {result.daemon_exit} on SIGTERM; see {path / 'daemon.log'}")
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
        log.close()
        site.stop()
    if db.exists():
        result.alerts = _alerts(db)
    mails = sorted(outbox.glob("*.eml")) if outbox.is_dir() else []
    result.alert_emails = [m for m in mails if "-alert-" in m.name]
    result.digest_emails = [m for m in mails if "-digest-" in m.name]
    today = datetime.now(TZ).date().isoformat()
    page = path / "digests" / f"{today}.html"
    result.digest_page = page if page.exists() else None
    scoped = [a for a in result.alerts if a["kind"] != "source"]
    if not scoped:
        counts = _stores_counts(db) if db.exists() else {}
        result.problems.append(
            "no alert was raised: " + (f"{counts.get('negative', 0)} of {counts.get('posts', 0)} stored posts were "
                                       f"analysed as negative; the spike needs 16 in an hour" if counts else "nothing was stored"))
    elif not result.alert_emails:
        result.problems.append("an alert was raised but no alert email reached the outbox")
    if result.digest_page is None:
        result.problems.append(f"no digest page for {today} was written")
    _report(result, echo, LEVEL_NAMES, time.time() - start)
    return result


def _build_digest(config: Path, folder: Path, echo: Callable[[str], None]) -> None:
    today = datetime.now(TZ).date().isoformat()
    proc = subprocess.run([sys.executable, "-m", "yuqing", "--config", str(config), "digest", "--date", today],
                          cwd=folder, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        echo(f"  digest: `yuqing digest --date {today}` failed: {(proc.stderr or proc.stdout).strip()[-300:]}")
    else:
        echo(f"  digest of {today} built")


def _report(result: DemoResult, echo: Callable[[str], None], names: dict[str, str], took: float) -> None:
    cfg = result.config
    echo("")
    echo(f"Demo finished in {took:.0f}s. Everything is in {result.folder}")
    for alert in result.alerts:
        echo(f"  alert #{alert['id']} {names.get(alert['level'], alert['level'])} {alert['state']}: {alert['title']}")
    for mail in result.alert_emails:
        echo(f"  alert email:  {mail}")
    for mail in result.digest_emails:
        echo(f"  digest email: {mail}")
    if result.digest_page:
        echo(f"  digest page:  {result.digest_page}")
    echo("")
    echo("Look around:")
    echo(f"  yuqing --config {cfg} status           # sources, backlog, jobs, last digest")
    echo(f"  yuqing --config {cfg} alerts           # the alert and its explanation")
    echo(f"  yuqing --config {cfg} serve            # then open http://127.0.0.1:8080 (digest, events, search)")
    echo("  (the sample site stopped with the demo, so links to the original posts no longer answer)")
    if result.problems:
        echo("")
        for problem in result.problems:
            echo(f"Problem: {problem}")


@click.command("demo")
@click.option("--dir", "folder", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the demo's config, store, outbox and pages (default: a new temporary folder).")
@click.option("--minutes", type=click.FloatRange(0.5, 30), default=2.0, show_default=True,
              help="How long the story plays.")
def demo_command(folder: Path | None, minutes: float) -> None:
    """Run the whole pipeline offline on a local sample site: crawl, analyse, alert, digest.

    Starts a sample site on 127.0.0.1 about an invented county (青溪县) with a week of normal
    posts and then a water-outage incident, runs the real daemon against it, and ends with the
    alert email in the outbox and the day's digest page. Needs no network and no config.

    Example:

    \b
        yuqing demo --dir /tmp/yuqing-demo
    """
    result = run_demo(folder, minutes)
    raise SystemExit(0 if result.ok else 1)

