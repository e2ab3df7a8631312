"""Source-health alerts (kind "source"): a source that keeps failing, falls silent, or lost its login.

* failing: `failures` (consecutive failed runs) >= alerts.source_failures -> blue; twice that -> yellow;
* login/cookie/blocked: the last error names a login, cookie, captcha or block problem -> yellow
  (someone must renew a cookie; yuqing never dodges a block);
* parsing nothing: its last source_failures runs all fetched pages without an error but read no
  post from them, when earlier runs did -> blue ("fetched 3 pages, parsed 0 posts: layout changed?");
* silent: no new post for more than alerts.source_silence x the source's usual gap between runs
  that brought new posts (median of its last 30 such runs; needs 3 of them) -> blue.

A source alert resolves when the source is healthy again (runs fine and brings posts).
"""

from __future__ import annotations

import statistics
from datetime import datetime
from typing import Any

from yuqing.models import from_iso, to_iso
from yuqing.settings import Settings
from yuqing.store import Store

LOGIN_WORDS = ("login required", "login", "cookie", "blocked", "captcha", "验证码", "登录", "风控")


def _usual_gap(store: Store, source: str) -> float | None:
    rows = store.query(
        "SELECT finished_at FROM crawl_runs WHERE source = ? AND new > 0 AND finished_at IS NOT NULL"
        " ORDER BY id DESC LIMIT 30", [source])
    times = sorted(from_iso(r["finished_at"]).timestamp() for r in rows)  # type: ignore[union-attr]
    gaps = [b - a for a, b in zip(times, times[1:], strict=False) if b > a]
    return statistics.median(gaps) if len(gaps) >= 2 else None


def _parsing_nothing(store: Store, source: str, runs: int) -> int:
    """Pages fetched over the last `runs` runs when each fetched pages, raised no error and read no
    post, while some earlier run read posts (a source that never gave any is not "changed"); else 0."""
    recent = store.recent_runs(source, max(runs, 1))
    if len(recent) < runs or not all(r["error"] is None and not r["fetched"] and (r.get("pages") or 0) > 0
                                     for r in recent):
        return 0
    if not store.parsed_posts_before(source, int(recent[-1]["id"])):
        return 0
    return sum(int(r["pages"]) for r in recent)


def diagnose(settings: Settings, store: Store, row: dict[str, Any], now: datetime) -> tuple[str | None, str, dict[str, Any]]:
    """(level or None when healthy, what is wrong in words, details) for one sources row."""
    name = row["name"]
    failures = int(row.get("failures") or 0)
    error = row.get("last_error") or ""
    details: dict[str, Any] = {"source": name, "failures": failures, "last_error": error or None,
                               "last_run_at": row.get("last_run_at"), "last_ok_at": row.get("last_ok_at"),
                               "last_new_at": row.get("last_new_at")}
    lowered = error.lower()
    if failures and any(word in lowered for word in LOGIN_WORDS):
        return "yellow", f"需要登录或 Cookie 已失效/被封禁：{error}", details
    limit = settings.alerts.source_failures
    if failures >= limit:
        level = "yellow" if failures >= 2 * limit else "blue"
        return level, f"连续 {failures} 次抓取失败：{error or '原因未记录'}", details
    empty = _parsing_nothing(store, name, limit)
    if empty:
        details["empty_runs"] = limit
        return "blue", (f"连续 {limit} 次运行取回页面却没有解析出帖子，页面结构可能已改变"
                        f"（fetched {empty} pages, parsed 0 posts: layout changed?）"), details
    gap = _usual_gap(store, name)
    last_new = from_iso(row.get("last_new_at"))
    if gap and last_new:
        silent = (now - last_new).total_seconds()
        every = next((s.every for s in settings.sources if s.name == name), 0.0)
        details.update(usual_gap_s=round(gap), silent_s=round(silent))
        if silent > settings.alerts.source_silence * gap and silent > 2 * every:
            hours = silent / 3600
            return "blue", f"已 {hours:.1f} 小时没有新帖（平时约每 {gap / 3600:.1f} 小时就有），可能已失效", details
    return None, "正常", details


def check_sources(settings: Settings, store: Store, now: datetime) -> list[Any]:
    """One Finding per configured, enabled source (and any source with an open alert)."""
    from yuqing.alerts.detector import Finding

    enabled = {s.name for s in settings.sources if s.enabled}
    open_keys = {r["key"] for r in store.query("SELECT key FROM alerts WHERE kind = 'source' AND state != 'resolved'")}
    findings = []
    for row in store.query("SELECT * FROM sources ORDER BY name"):
        name = row["name"]
        if name not in enabled and name not in open_keys:
            continue
        if name not in enabled:  # removed or disabled: nothing to watch any more
            findings.append(Finding(kind="source", key=name, title=f"数据源「{settings.source_title(name)}」", fired=False,
                                    level=None, quiet=True))
            continue
        level, problem, details = diagnose(settings, store, row, now)
        finding = Finding(kind="source", key=name, title=f"数据源「{settings.source_title(name)}」", fired=level is not None,
                          level=level, quiet=level is None)
        if level:
            finding.explanation = {"scope": {"kind": "source", "key": name, "title": finding.title},
                                   "level": level, "problem": problem, "checked_at": to_iso(now), **details}
        findings.append(finding)
    return findings
