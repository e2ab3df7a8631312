"""Benchmark of the daemon: alert latency and resident memory over many crawl cycles.

    python bench/daemon.py                  # both parts (the memory part takes ~10 minutes)
    python bench/daemon.py --cycles 50      # a shorter memory run
    python bench/daemon.py --skip-memory

1. Latency: the sample site (yuqing.demo) with a week of history, aiosmtpd on loopback, the real
   daemon (`yuqing run`, crawls every INTERVAL). The incident's posts appear on the site at t0; the
   figure is the time until the SMTP server accepts the alert email, minus the crawl interval (the
   wait for the next crawl, which only a shorter interval shortens). Goal: <= 30 s.
   Baseline, same run: the same incident handled cron-style, `yuqing crawl && yuqing analyze &&
   yuqing detect` run as separate commands on a copy of the store taken just before t0.
2. Memory: the daemon crawls one source every second while the site publishes a new post each
   second (so every cycle also runs analysis, detection and delivery). RSS of the daemon process
   (VmRSS in /proc) after 10 cycles is the baseline, after 200 the figure. Goal: growth <= 10 %.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

from yuqing.daemon.process import DaemonProcess
from yuqing.demo.posts import FORUM_NORMAL, TZ, Story, history, incident
from yuqing.demo.site import SampleSite
from yuqing.demo.walkthrough import config_text
from yuqing.store import Store


class Mailbox:
    """aiosmtpd on 127.0.0.1 recording when each message was accepted."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.accepted: list[tuple[float, bytes]] = []
        box = self

        class _Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802
                box.accepted.append((time.time(), envelope.content))
                return "250 OK"

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(_Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()
        self.url = f"mailto://127.0.0.1:{self.port}?from=yuqing@localhost&to=duty@example.com&mode=insecure"

    def alerts(self) -> list[float]:
        import email
        import email.policy

        found = []
        for at, raw in self.accepted:
            if "舆情预警" in str(email.message_from_bytes(raw, policy=email.policy.default)["Subject"]):
                found.append(at)
        return found

    def stop(self) -> None:
        self.controller.stop()


def _wait(check, timeout: float, what: str) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if check():
                return
        except sqlite3.Error:
            pass
        time.sleep(0.1)
    raise SystemExit(f"benchmark failed: timed out waiting for {what}")


def _settled(db: Path, site: SampleSite) -> bool:
    with Store(db, readonly=True) as store:
        posts = store.scalar("SELECT count(*) FROM posts")
        pending = store.scalar("SELECT count(*) FROM posts WHERE analyzed_at IS NULL")
        return posts == len(site.visible()) and pending == 0


def latency(folder: Path, interval: float) -> None:
    story = Story(seed=5)
    site = SampleSite(history(story, time.time(), days=7)).start()
    mail = Mailbox()
    try:
        live = folder / "live"
        live.mkdir()
        config = live / "yuqing.toml"
        config.write_text(config_text(site.sources, every=f"{interval:g}s", notify=[mail.url]), encoding="utf-8")
        daemon = DaemonProcess(config, live / "yuqing.db", live / "daemon.log").start()
        try:
            _wait(lambda: _settled(live / "yuqing.db", site), 180, "the history to be crawled and analysed")
            time.sleep(2)
            # the baseline's starting point: the same store, just before the incident
            cron = folder / "cron"
            cron.mkdir()
            with Store(live / "yuqing.db", readonly=True) as src, sqlite3.connect(cron / "yuqing.db") as dst:
                src.conn.backup(dst)
            shutil.copy(config, cron / "yuqing.toml")
            burst = incident(story, time.time())
            t0 = time.time()
            site.add(burst)
            _wait(lambda: mail.alerts(), interval + 120, "the alert email")
            mailed = mail.alerts()[0]
            daemon_latency = mailed - t0
            # the crawl that completed the picture: the last one to finish with new posts before the email
            with Store(live / "yuqing.db", readonly=True) as store:
                rows = store.query("SELECT finished_at FROM crawl_runs WHERE new > 0 AND finished_at IS NOT NULL"
                                   " ORDER BY finished_at")
            from yuqing.models import from_iso

            finishes = [from_iso(r["finished_at"]).timestamp() for r in rows]
            seen_by = max((f for f in finishes if t0 <= f <= mailed + 1), default=t0)
            after_crawl = max(0.0, mailed - seen_by)
        finally:
            code = daemon.stop()
        if code != 0:
            print(f"warning: the daemon exited {code} on SIGTERM")
        chain = []
        started = time.time()
        for command in (["crawl"], ["analyze"], ["detect"]):
            t = time.time()
            proc = subprocess.run([sys.executable, "-m", "yuqing", "--config", str(cron / "yuqing.toml"), *command],
                                  capture_output=True, text=True, cwd=cron)
            chain.append((" ".join(command), time.time() - t, proc.returncode))
        cron_time = time.time() - started
        alerts = mail.alerts()
        cron_mailed = len(alerts) >= 2
    finally:
        mail.stop()
        site.stop()
    figure = daemon_latency - interval
    print("== alert latency (incident on the site -> alert email accepted by SMTP)")
    print(f"  crawl interval                            {interval:6.1f} s")
    print(f"  daemon: latency                           {daemon_latency:6.1f} s")
    print(f"  daemon: latency - interval (figure)       {figure:6.1f} s   goal <= 30 s: {'met' if figure <= 30 else 'NOT met'}")
    print(f"  daemon: crawl that saw it -> email        {after_crawl:6.1f} s   (analyse + detect + deliver, warm)")
    for name, took, rc in chain:
        label = f"baseline `yuqing {name}`"
        print(f"  {label:<42}{took:6.1f} s   (exit {rc})")
    print(f"  baseline: cron-style chain, no wait       {cron_time:6.1f} s   "
          f"({'alert mailed' if cron_mailed else 'NO alert mailed'})")
    cold = sum(took for name, took, _ in chain if name != "crawl")
    print(f"  ratio daemon after-crawl / baseline `analyze` + `detect` ({cold:.1f} s): {after_crawl / cold:.2f}")
    print(f"  ratio daemon (latency - interval) / baseline chain: {max(figure, 0.0) / cron_time:.2f}")


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def memory(folder: Path, cycles: int) -> None:
    story = Story(seed=9)
    site = SampleSite(history(story, time.time(), days=2)).start()
    stop = threading.Event()

    def publish() -> None:  # a new forum post every second: every crawl cycle has work downstream
        k = 0
        while not stop.wait(1.0):
            k += 1
            title, text, negative = FORUM_NORMAL[k % len(FORUM_NORMAL)]
            post = story.make("forum", f"{title}（{k}）", text, datetime.now(TZ).replace(microsecond=0),
                              time.time(), negative=negative)
            if post:
                site.add([post])

    feeder = threading.Thread(target=publish, daemon=True)
    feeder.start()
    mem = folder / "memory"
    mem.mkdir()
    config = mem / "yuqing.toml"
    text = config_text(site.sources, every="1s")
    # one source (the cheapest, the feed) so that cycles come fast; the other two are switched off
    text = text.replace('type = "html"', 'type = "html"\nenabled = false').replace('type = "json"', 'type = "json"\nenabled = false')
    config.write_text(text, encoding="utf-8")
    daemon = DaemonProcess(config, mem / "yuqing.db", mem / "daemon.log").start()
    db = mem / "yuqing.db"

    def runs() -> int:
        with Store(db, readonly=True) as store:
            return int(store.scalar("SELECT count(*) FROM crawl_runs WHERE finished_at IS NOT NULL"))

    try:
        _wait(lambda: runs() >= 10, 300, "10 crawl cycles")
        rss10 = _rss_kb(daemon.pid)
        started = time.time()
        last = 10
        while last < cycles:
            time.sleep(5)
            last = runs()
            if not daemon.running():
                raise SystemExit(f"the daemon died: {daemon.output()[-2000:]}")
            print(f"  ... {last} cycles, RSS {_rss_kb(daemon.pid) / 1024:.1f} MB", file=sys.stderr)
        rss_n = _rss_kb(daemon.pid)
        took = time.time() - started
        with Store(db, readonly=True) as store:
            posts = store.scalar("SELECT count(*) FROM posts")
            analysed = store.scalar("SELECT count(*) FROM posts WHERE analyzed_at IS NOT NULL")
    finally:
        stop.set()
        code = daemon.stop()
        site.stop()
    growth = rss_n / rss10 if rss10 else float("nan")
    print(f"== daemon resident memory (VmRSS), one source crawled every second, {posts} posts ({analysed} analysed)")
    print(f"  after 10 cycles (baseline)             {rss10 / 1024:7.1f} MB")
    label = f"after {last} cycles"
    print(f"  {label:<39}{rss_n / 1024:7.1f} MB   ({took:.0f} s for the last {last - 10})")
    print(f"  ratio {growth:.3f} (growth {100 * (growth - 1):+.1f} %)   goal <= 1.10: {'met' if growth <= 1.10 else 'NOT met'}")
    print(f"  daemon exit status on SIGTERM: {code}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--interval", type=float, default=10.0, help="crawl interval of the latency run (s)")
    parser.add_argument("--cycles", type=int, default=200, help="crawl cycles of the memory run")
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="yuqing-bench-daemon-"))
    try:
        if not args.skip_latency:
            latency(folder, args.interval)
        if not args.skip_memory:
            memory(folder, args.cycles)
    finally:
        if args.keep:
            print(f"work folder kept: {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
