"""`yuqing status`: what a duty analyst checks first — sources' health, backlog, jobs, last digest."""

from __future__ import annotations

import json
from typing import Any

from yuqing.localtime import shown
from yuqing.settings import Settings
from yuqing.store import Store
from yuqing.text import columns, pad


def collect(settings: Settings, store: Store) -> dict[str, Any]:
    """Everything status shows, as plain data (also `status --json`)."""
    store.sync_sources(settings.sources)
    configured = {s.name for s in settings.sources}
    sources = []
    for row in store.sources_health():
        sources.append(
            {
                "name": row["name"],
                "title": settings.source_title(row["name"]),
                "type": row["type"],
                "configured": row["name"] in configured,
                "last_run_at": row["last_run_at"],
                "last_ok_at": row["last_ok_at"],
                "last_new_at": row["last_new_at"],
                "failures_in_a_row": row["failures"],
                "runs": row["runs"],
                "posts": row["posts"],
                "last_run": {
                    k: row[f"last_{k}"] for k in ("fetched", "matched", "new", "duplicates", "errors")
                },
                "last_error": row["last_error"],
            }
        )
    daemon = json.loads(store.get_meta("daemon", "{}") or "{}")
    if daemon.get("running"):
        from yuqing.lock import running_daemon

        if running_daemon(store.path) is None:  # it died without a clean stop (kill -9, power loss)
            daemon.update(running=False, stale=True)
    last_digest = store.query("SELECT date, built_at FROM digests ORDER BY date DESC LIMIT 1")
    from yuqing.delivery.channels import describe_url, known_channels
    from yuqing.store.deliveries import channel_report, failed_messages

    configured_channels = known_channels(settings)
    channels = []
    for row in channel_report(store):
        url = configured_channels.get(row["name"])
        channels.append({**row, "configured": url is not None, "url": describe_url(url) if url else row.get("url", "")})
    return {
        "timezone": settings.digest.timezone,
        "store": str(store.path),
        "posts": store.count_posts(),
        "sources": sources,
        "backlog": store.backlog(),
        "daemon": daemon,
        "last_digest": last_digest[0] if last_digest else None,
        "channels": channels,
        "failed_messages": failed_messages(store, limit=20),
    }


def _ago(value: str | None, tz: str = "Asia/Shanghai") -> str:
    return shown(value, tz, empty="never")


def render(report: dict[str, Any]) -> str:
    tz = report.get("timezone") or "Asia/Shanghai"
    checked = ", quick_check ok" if report.get("integrity") == "ok" else ""
    lines = [f"store: {report['store']} ({report['posts']} posts{checked})", "", "sources:"]
    if not report["sources"]:
        lines.append("  (none)")
    width = max([20] + [columns(s.get("title") or s["name"]) for s in report["sources"]])
    for s in report["sources"]:
        last = s["last_run"]
        counts = (
            f"fetched {last['fetched']} matched {last['matched']} new {last['new']} "
            f"dup {last['duplicates']} errors {last['errors']}"
            if last["fetched"] is not None
            else "no run yet"
        )
        health = "OK" if not s["last_error"] else f"FAILING ({s['failures_in_a_row']} in a row): {s['last_error']}"
        if not s["configured"]:
            health += " [no longer configured]"
        shown_as = pad(s.get("title") or s["name"], width)  # --json keeps the config name as the key
        lines.append(f"  {shown_as} last run {_ago(s['last_run_at'], tz)}  {counts}  total {s['posts']}")
        lines.append(f"  {'':{width}} {health}")
    b = report["backlog"]
    failed = sum(int(c.get("failed") or 0) for c in report.get("channels") or [])
    kept = f", {failed} failed for good (kept, see below)" if failed else ""
    lines += ["", f"backlog: {b['unanalysed_posts']} unanalysed posts, {b['undelivered']} undelivered messages{kept}, "
              f"{b['open_alerts']} open alerts"]
    lines += _render_channels(report)
    daemon = report["daemon"]
    if daemon.get("jobs"):
        running = "running" if daemon.get("running") else "stopped"
        if daemon.get("stale"):
            running = "not running (it stopped without a clean exit)"
        lines += ["", f"daemon: {running} (pid {daemon.get('pid')}, updated {_ago(daemon.get('updated_at'), tz)})"]
        for job in daemon["jobs"]:
            lines.append(f"  {job['id']:28} next run {_ago(job.get('next_run'), tz)}")
        sending = (daemon.get("delivery") or {}).get("busy")
        if sending and daemon.get("running"):
            lines.append(f"  {'delivery worker':28} sending now (beside the pipeline)")
    else:
        lines += ["", "daemon: never started on this store"]
    d = report["last_digest"]
    lines += ["", f"last digest: {d['date']} (built {_ago(d['built_at'], tz)})" if d else "last digest: none yet"]
    lines += ["", f"times in {tz}"]
    return "\n".join(lines)


def _render_channels(report: dict[str, Any]) -> list[str]:
    channels = report.get("channels") or []
    if not channels:
        return []
    tz = report.get("timezone") or "Asia/Shanghai"
    lines = ["", "delivery channels:"]
    for c in channels:
        where = f" {c['url']}" if c.get("url") and c["url"] != c["name"] else ""
        counts = f"{c['waiting'] or 0} waiting, {c['failed'] or 0} failed, {c['sent'] or 0} sent"
        lines.append(f"  {c['name']}{where}: {counts}; last tried {_ago(c.get('last_attempt_at'), tz)}, "
                     f"last delivered {_ago(c.get('last_ok_at'), tz)}")
        if not c["configured"]:
            lines.append("      no longer configured: `yuqing deliver --retry-failed --to NAME` sends its messages elsewhere")
        if c.get("last_error"):
            lines.append(f"      last error ({c.get('failures') or 0} in a row): {c['last_error']}")
    failed = report.get("failed_messages") or []
    if failed:
        lines.append(f"  failed messages (kept; `yuqing deliver --retry-failed` sends them again): {len(failed)}"
                     + (" or more" if len(failed) >= 20 else ""))
        for m in failed[:10]:
            lines.append(f"    #{m['id']} {m['kind']} {m['ref']} to {m['channel']}: {m['last_error']}")
    return lines
