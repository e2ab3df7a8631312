"""PDF (and PNG charts) from our own HTML with Debian's headless Chromium: no network, CJK fonts.

Chromium prints the same page the web app shows, with the fonts fontconfig finds (fonts-wqy-microhei
gives Chinese). It runs with networking pointed at a dead proxy, a throwaway profile and a timeout,
so a page cannot fetch anything and a hung browser cannot hang the daemon.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from yuqing.digest import render
from yuqing.errors import YuqingError

logger = logging.getLogger(__name__)

TIMEOUT = 120.0
CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")


class BrowserError(YuqingError):
    """Chromium is missing or failed to print."""


def chromium() -> str:
    for path in (os.environ.get("YUQING_CHROMIUM", ""), *CANDIDATES):
        if path and Path(path).exists():
            return path
    found = shutil.which("chromium")
    if not found:
        raise BrowserError("PDF needs Chromium (Debian: apt-get install chromium fonts-wqy-microhei)")
    return found


def _run(args: list[str], what: str) -> None:
    with tempfile.TemporaryDirectory(prefix="yuqing-chromium-") as profile:
        cmd = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--mute-audio",
               "--disable-extensions", "--disable-background-networking", "--proxy-server=127.0.0.1:9",
               "--proxy-bypass-list=<-loopback>", f"--user-data-dir={profile}", *args]
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            raise BrowserError(f"Chromium did not finish {what} within {TIMEOUT:g}s") from None
        if done.returncode != 0:
            tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no message"]
            raise BrowserError(f"Chromium failed {what} (exit {done.returncode}): {tail[0]}")


def html_to_pdf(html_path: Path, pdf_path: Path) -> Path:
    tmp = pdf_path.with_name(f".{pdf_path.name}.{os.getpid()}.tmp")
    _run(["--no-pdf-header-footer", f"--print-to-pdf={tmp}", html_path.resolve().as_uri()], f"printing {pdf_path.name}")
    if not tmp.exists() or tmp.stat().st_size == 0:
        raise BrowserError(f"Chromium wrote no PDF for {pdf_path.name}")
    os.replace(tmp, pdf_path)
    return pdf_path


def svg_to_png(svgs: dict[str, str], folder: Path, width: int = 900) -> dict[str, Path]:
    """Each SVG as a PNG in `folder`, `width` px wide, in Chinese fonts; Chromium runs in parallel (2)."""
    folder.mkdir(parents=True, exist_ok=True)
    jobs = []
    for name, svg in svgs.items():
        vb = svg.split('viewBox="', 1)[1].split('"', 1)[0].split() if 'viewBox="' in svg else ["0", "0", "640", "200"]
        w, h = float(vb[2]), float(vb[3])
        height = int(width * h / w) + 4
        page = folder / f"{name}.html"
        page.write_text(f'<!DOCTYPE html><html><head><meta charset="utf-8"><style>html,body{{margin:0;background:#fff;'
                        f'font-family:{render.FONTS}}}svg{{width:{width}px;height:{height - 4}px;display:block}}</style></head>'
                        f"<body>{svg}</body></html>", encoding="utf-8")
        jobs.append((name, page, folder / f"{name}.png", height))
    out: dict[str, Path] = {}
    for i in range(0, len(jobs), 2):
        procs = []
        for name, page, png, height in jobs[i:i + 2]:
            profile = tempfile.mkdtemp(prefix="yuqing-chromium-")
            cmd = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                   "--proxy-server=127.0.0.1:9", f"--user-data-dir={profile}", f"--window-size={width},{height}",
                   f"--screenshot={png}", page.resolve().as_uri()]
            procs.append((name, png, profile, subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)))
        for name, png, profile, proc in procs:
            try:
                proc.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            shutil.rmtree(profile, ignore_errors=True)
            if png.exists() and png.stat().st_size:
                out[name] = png
            else:
                logger.warning("chart %s could not be rasterised; the document shows its table only", name)
    return out
