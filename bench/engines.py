"""Crawl throughput through scrapyd nodes against local children, on the same loopback site.

bench/crawl.py's generated news site (list pages of 10 posts, a detail page each) is served on
127.0.0.1 once per source (a server each), so every source crawls its own chain of list pages. The same sources
are crawled by `crawl_sources` three ways, each into a fresh store (every post new):

    local       child processes on this machine (the baseline: [crawl] engine = "local")
    scrapyd x1  jobs on one scrapyd node (started here on 127.0.0.1, deployed with `deploy`)
    scrapyd x2  jobs spread over two nodes (both on this machine: the scheduling, not the hardware)

Figures: pages/s over the whole call (scheduling, start-up and following included), the best of
alternating rounds, and the ratio to local measured in the same run. Workers (runs at once) are
the same for every variant, and so is each node's max_proc.

    python bench/engines.py                         # about two minutes on two cores
    python bench/engines.py --sources 2 --lists 5   # quicker
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from crawl import build_site, serve  # bench/crawl.py

from yuqing import settings as settings_mod
from yuqing.crawlers.engines.project import deploy
from yuqing.crawlers.runner import crawl_sources

WORKERS = 2


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_scrapyd(root: Path, max_proc: int) -> tuple[subprocess.Popen[bytes], str]:
    root.mkdir(parents=True)
    port = free_port()
    (root / "scrapyd.conf").write_text(
        f"[scrapyd]\nbind_address = 127.0.0.1\nhttp_port = {port}\neggs_dir = {root}/eggs\nlogs_dir = {root}/logs\n"
        f"dbs_dir = {root}/dbs\njobs_to_keep = 100\npoll_interval = 0.2\nmax_proc = {max_proc}\n", encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "scrapyd"], cwd=root, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/daemonstatus.json", timeout=2) as response:
                if json.loads(response.read()).get("status") == "ok":
                    return proc, url
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"scrapyd did not start in {root}")


def write_config(path: Path, bases: list[str], sources: int, engine: str, nodes: list[str]) -> Path:
    text = f"""
[locality]
name = "芦山县"
aliases = ["芦山", "龙门乡", "飞仙关"]

[store]
path = "{path.stem}.db"

[crawl]
delay = "0s"
autothrottle = false
concurrency = 8
retries = 0
max_pages = 100000
timeout = "10m"
engine = "{engine}"
scrapyd = {json.dumps(nodes)}

[daemon]
crawl_workers = {WORKERS}
"""
    for i in range(sources):
        text += f"""
[[sources]]
name = "bench-{i}"
type = "html"
url = "{bases[i]}/news/index.html"
item = "ul.news li"
fields = {{ title = "a::text", url = "a::attr(href)", time = ".date::text" }}
detail = {{ text = "div.article" }}
next_page = "a.next::attr(href)"
"""
    path.write_text(text, encoding="utf-8")
    return path


def measure(config: Path) -> tuple[float, int, int, float]:
    settings = settings_mod.load(config)
    started = time.perf_counter()
    results = crawl_sources(settings, workers=WORKERS)
    took = time.perf_counter() - started
    failed = [f"{s.source}: {s.error}" for s in results if not s.ok]
    if failed:
        raise SystemExit("a bench crawl failed: " + "; ".join(failed))
    pages = sum(s.fetched for s in results)
    return pages / took, pages, sum(s.new for s in results), took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=4, help="sources, each its own chain of list pages")
    parser.add_argument("--lists", type=int, default=20, help="list pages per source (10 detail pages each)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds; the best of each variant counts")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="yuqing-bench-engines-") as tmp:
        work = Path(tmp)
        servers = []
        for i in range(args.sources):  # one server each: the pages link from the site's root
            build_site(work / "site" / f"s{i}", args.lists, 0)
            servers.append(serve(work / "site" / f"s{i}"))
        bases = [base for _, base in servers]
        nodes = []
        try:
            for n in range(2):
                nodes.append(start_scrapyd(work / f"node{n}", max_proc=WORKERS))
            urls = [url for _, url in nodes]
            failed = [r for r in deploy(urls) if not r.ok]
            if failed:
                raise SystemExit("; ".join(str(r.error) for r in failed))
            print(f"loopback site: {args.sources} sources x {args.lists * 11} pages; {WORKERS} runs at once")
            variants = {
                "local": write_config(work / "local.toml", bases, args.sources, "local", []),
                "scrapyd x1": write_config(work / "scrapyd1.toml", bases, args.sources, "scrapyd", urls[:1]),
                "scrapyd x2": write_config(work / "scrapyd2.toml", bases, args.sources, "scrapyd", urls),
            }
            figures: dict[str, tuple[float, int, int, float]] = {}
            for round_ in range(args.rounds):  # alternating, so a busy moment of the machine hits every variant
                for name, config in variants.items():
                    for db in config.parent.glob(f"{config.stem}.db*"):
                        db.unlink()  # a fresh store: every post new
                    figure = measure(config)
                    rate, pages, new, took = figure
                    print(f"  round {round_ + 1} {name:11} {pages:6d} pages {new:6d} new posts in {took:6.1f}s")
                    if name not in figures or rate > figures[name][0]:
                        figures[name] = figure
            print()
            baseline = figures["local"][0]
            for name, (rate, *_rest) in figures.items():
                print(f"{name:11} {rate:8.1f} pages/s   local {baseline:8.1f} pages/s   ratio {rate / baseline:5.2f}x")
        finally:
            for server, _ in servers:
                server.shutdown()
            for proc, _ in nodes:
                proc.terminate()
                proc.wait(timeout=15)


if __name__ == "__main__":
    main()
