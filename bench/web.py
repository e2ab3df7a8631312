"""Benchmark of the web app under load and of the daemon's pipeline beside a slow mail server.

    python bench/web.py                     # 50,000 posts, 200 page loads, 50 searches, lag 15 rounds
    python bench/web.py --posts 5000 --rounds 3

1. Web: a store of --posts posts (built once and kept in the temp folder, full-text indexed as the
   analysis stage does), served on 127.0.0.1. 200 page loads (home, post, alerts, digests, events'
   pages, each sent at the same instant from 200 threads), then 50 searches at once. Figures: median
   and worst latency, and how many were not answered within --timeout. Baseline, same run and same
   store: the previous hand-written server (socketserver, listen backlog 5), loaded from git
   `40e6207:yuqing/web/app.py` into a temporary module; skipped with the reason when git or that
   commit is not at hand.
2. Pipeline lag: the daemon in-process, new posts written to its store and the pipeline asked to run;
   the figure is the time until they are analysed and detection has run, with a drip mail server
   configured (a loopback server that trickles its banner one byte every 2 s, so the delivery worker
   is always stuck on it) and messages queued for it. Baseline: the same with no mail server (the
   outbox). Goal: unchanged within 10 %. The two daemons take turns round by round; on a busy machine
   a median of fewer than ~15 rounds of sub-second tasks is mostly noise.
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from yuqing import settings as settings_mod  # noqa: E402
from yuqing.models import Post, utcnow  # noqa: E402
from yuqing.store import Store  # noqa: E402

OLD_COMMIT = "40e6207"
WORDS = ["停水", "塌方", "交通", "龙门乡", "飞仙关", "学校", "医院", "物业", "拆迁", "茶文化节", "旅游", "噪音"]
CONFIG = """
[locality]
name = "芦山县"
aliases = ["芦山", "龙门乡", "飞仙关"]
[store]
path = "{db}"
[web]
bind = "127.0.0.1:0"
[alerts]
outbox = "outbox"
{alerts}
[daemon]
pipeline_every = "1h"
deliver_every = "1s"
"""


def _config(folder: Path, db: Path, alerts: str = "") -> settings_mod.Settings:
    path = folder / f"bench-{abs(hash(alerts)) % 10**6}.toml"
    path.write_text(CONFIG.format(db=db, alerts=alerts), encoding="utf-8")
    return settings_mod.load(path)


def _posts(start: int, n: int) -> list[Post]:
    now = utcnow()
    out = []
    for i in range(start, start + n):
        a, b = WORDS[i % len(WORDS)], WORDS[(i * 7) % len(WORDS)]
        out.append(Post(url=f"http://news.example/{i}", source=f"src{i % 5}", title=f"芦山县{a}问题第{i}帖",
                        text=f"龙门乡居民反映{a}和{b}的情况，已经持续{i % 30}天，希望有关部门尽快处理。编号{i}",
                        published_at=now))
    return out


def build_store(db: Path, n: int) -> None:
    """n posts, indexed for search in chunks (jieba, as the analysis stage does): built once, kept."""
    if db.exists():
        with Store(db) as store:
            if store.count_posts() >= n:
                return
        db.unlink()
    t0 = time.monotonic()
    with Store(db) as store:
        for start in range(0, n, 2000):
            chunk = _posts(start, min(2000, n - start))
            store.add_posts(chunk)
            with store.transaction():
                store.index_rows([(p.id, p.title, p.text) for p in chunk if p.id])
    print(f"built a store of {n} posts in {time.monotonic() - t0:.0f}s: {db}")


# -- load -----------------------------------------------------------------------------------------
def _get(port: int, path: str, timeout: float, start: threading.Barrier, out: list[Any]) -> None:
    try:
        start.wait()
    except threading.BrokenBarrierError:
        pass
    t0 = time.monotonic()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        conn.request("GET", path, headers={"Host": f"127.0.0.1:{port}"})
        resp = conn.getresponse()
        resp.read()
        conn.close()
        out.append((time.monotonic() - t0, resp.status))
    except Exception as exc:  # refused, reset or timed out: not answered
        out.append((None, type(exc).__name__))


def load(port: int, paths: list[str], timeout: float) -> dict[str, Any]:
    results: list[Any] = []
    barrier = threading.Barrier(len(paths))
    threads = [threading.Thread(target=_get, args=(port, p, timeout, barrier, results), daemon=True) for p in paths]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout + 30)
    times = [t for t, _ in results if t is not None]
    ok = [t for t, status in results if t is not None and isinstance(status, int) and status < 400]
    return {
        "n": len(paths), "answered": len(times), "ok": len(ok),
        "median": statistics.median(times) if times else None, "worst": max(times) if times else None,
        "errors": sorted({str(s) for t, s in results if t is None or not isinstance(s, int) or s >= 400}),
    }


def page_paths(n: int, count: int = 200) -> list[str]:
    pages = ["/digests", "/alerts", "/cases", "/"]
    return [pages[i % len(pages)] if i % 2 else f"/post/{1 + (i * 977) % n}" for i in range(count)]


def search_paths(count: int = 50) -> list[str]:
    from urllib.parse import quote

    return [f"/search?q={quote(WORDS[i % len(WORDS)])}" for i in range(count)]


def old_server_module() -> tuple[Any, str]:
    """The hand-written server of git 40e6207, as a temporary module, or (None, why not)."""
    try:
        source = subprocess.run(["git", "-C", str(ROOT), "show", f"{OLD_COMMIT}:yuqing/web/app.py"],
                                capture_output=True, text=True, check=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f"git show {OLD_COMMIT}:yuqing/web/app.py failed ({exc})"
    folder = Path(tempfile.mkdtemp(prefix="yuqing-oldweb-"))
    path = folder / "yuqing_old_web_app.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("yuqing_old_web_app", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[spec.name] = module  # dataclasses look their module up there  # type: ignore[union-attr]
    try:
        spec.loader.exec_module(module)  # type: ignore[union-attr]
    except Exception as exc:
        return None, f"the old server does not load beside today's views ({exc!r})"
    return module, ""


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}s"


def _ratio(new: float | None, old: float | None) -> str:
    if new is None or old is None or new == 0:
        return "—"
    return f"{old / new:.1f}x faster" if old >= new else f"{new / old:.1f}x slower"


def bench_web(folder: Path, n: int, timeout: float) -> None:
    db = Path(tempfile.gettempdir()) / f"yuqing-bench-web-{n}.db"
    build_store(db, n)
    settings = _config(folder, db)
    from yuqing.web.app import make_server

    new = make_server(settings, "127.0.0.1", 0)
    new.start()
    servers = {"waitress (now)": new.server_address[1]}
    old_mod, why = old_server_module()
    old = None
    if old_mod is not None:
        try:
            old = old_mod.make_server(settings, "127.0.0.1", 0)
            threading.Thread(target=old.serve_forever, daemon=True).start()
            probe = load(old.server_address[1], ["/digests", "/post/1", "/search?q=%E5%81%9C%E6%B0%B4"], timeout)
            if probe["ok"] < 3:
                why = f"the old server answers today's pages with {probe['errors']}"
                old.shutdown()
                old = None
            else:
                servers["hand-written (40e6207)"] = old.server_address[1]
        except Exception as exc:
            why, old = f"the old server does not start with today's views ({exc!r})", None
    print(f"\nweb app on a store of {n} posts (each request from its own thread, all at once; "
          f"not answered within {timeout:g}s counts as unanswered)")
    rows: dict[str, dict[str, dict[str, Any]]] = {}
    for name, port in servers.items():
        load(port, ["/", "/post/1"], timeout)  # warm the templates and the page cache
        rows[name] = {"200 page loads": load(port, page_paths(n), timeout),
                      "50 searches": load(port, search_paths(), timeout)}
    print(f"  {'':24}{'server':24}{'answered':>10}{'median':>10}{'worst':>10}  vs previous server")
    for test in ("200 page loads", "50 searches"):
        base = rows.get("hand-written (40e6207)", {}).get(test)
        for name, result in ((k, v[test]) for k, v in rows.items()):
            versus = "" if name != "waitress (now)" or base is None else (
                f"median {_ratio(result['median'], base['median'])}, worst {_ratio(result['worst'], base['worst'])}, "
                f"answered {result['answered']}/{base['answered']}")
            print(f"  {test:24}{name:24}{result['answered']:>5}/{result['n']:<4}{_fmt(result['median']):>10}"
                  f"{_fmt(result['worst']):>10}  {versus}")
            if result["errors"]:
                print(f"  {'':48}errors: {', '.join(result['errors'])}")
    if old is None:
        print(f"  previous server: skipped: {why}")
    new.shutdown()
    if old is not None:
        old.shutdown()
        old.server_close()


# -- pipeline lag ---------------------------------------------------------------------------------
class LagDaemon:
    """The daemon in-process on its own store; `round()` = new posts until analysed and detected."""

    def __init__(self, folder: Path, alerts: str) -> None:
        from yuqing.delivery import outbox
        from yuqing.scheduler import Daemon

        self.settings = _config(folder, folder / f"lag-{abs(hash(alerts)) % 10**6}.db", alerts)
        with Store(self.settings.db_path) as store:
            for i in range(5):  # messages waiting for the mail server, so the delivery worker is busy
                outbox.enqueue(store, self.settings, kind="alert", ref=f"bench{i}", subject="s", html="<p>x</p>",
                               text="x")
        self.daemon = Daemon(self.settings)
        self.thread = threading.Thread(target=self.daemon.run, daemon=True)
        self.thread.start()
        while not self.daemon.pipeline._thread.is_alive():
            time.sleep(0.05)
        self.daemon.pipeline.wait_idle(300)
        self.store = Store(self.settings.db_path)
        self.next_id = 1_000_000
        self.lags: list[float] = []

    def round(self, batch: int, record: bool = True) -> None:
        self.store.add_posts(_posts(self.next_id, batch))
        self.next_id += batch
        t0 = time.monotonic()
        self.daemon.request_pipeline("bench")
        time.sleep(0.01)
        self.daemon.pipeline.wait_idle(600)
        if record:
            self.lags.append(time.monotonic() - t0)

    def stop(self) -> str | None:
        busy = self.daemon.delivery.busy
        self.store.close()
        self.daemon.request_stop("bench")
        self.thread.join(120)
        return busy


def bench_lag(folder: Path, rounds: int, batch: int) -> None:
    from tests.delivery.drip import DripServer

    print(f"\npipeline lag: {batch} new posts until analysed and detection has run, median of {rounds} rounds "
          "(the two daemons take turns, so both see the same machine load)")
    drip = DripServer(every=2.0).start()
    try:
        base = LagDaemon(folder, "")
        slow = LagDaemon(folder, f'notify = [{json.dumps(drip.mailto)}]\nsend_timeout = "60s"')
        for d in (base, slow):
            d.round(batch, record=False)  # the model and jieba load: not part of the figure
        for r in range(rounds):
            for d in ((base, slow) if r % 2 else (slow, base)):
                d.round(batch)
        base.stop()
        busy = slow.stop()
    finally:
        drip.stop()
    b, s = statistics.median(base.lags), statistics.median(slow.lags)
    print(f"  no mail server (outbox):   median {b:.2f}s  worst {max(base.lags):.2f}s")
    print(f"  drip mail server:          median {s:.2f}s  worst {max(slow.lags):.2f}s  = {s / b:.2f}x the baseline "
          f"({'within' if s <= 1.1 * b else 'NOT within'} 10 %); its delivery worker meanwhile: {busy or 'idle'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=50_000)
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--batch", type=int, default=300)
    parser.add_argument("--skip-web", action="store_true")
    parser.add_argument("--skip-lag", action="store_true")
    args = parser.parse_args()
    import logging

    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("waitress").setLevel(logging.CRITICAL)  # its trigger complains once when stopped
    with tempfile.TemporaryDirectory(prefix="yuqing-bench-web-") as tmp:
        folder = Path(tmp)
        if not args.skip_web:
            bench_web(folder, args.posts, args.timeout)
        if not args.skip_lag:
            bench_lag(folder, args.rounds, args.batch)


if __name__ == "__main__":
    main()
