"""The 专报: the special report on one event or case — timeline, hourly volume, main claims, the
response, and whether 舆情回落 — in the layout offices use (see report_html for the sections)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from yuqing.digest import sections
from yuqing.digest.builder import excerpt
from yuqing.digest.report import ReportError, offset, pct, post_summary, share, titled
from yuqing.models import LEVEL_NAMES, from_iso, to_iso, utcnow
from yuqing.settings import Settings
from yuqing.store import Store
from yuqing.store import reports as q


def collect_event(settings: Settings, store: Store, event_id: int) -> dict[str, Any]:
    """The special report on one event: timeline, hourly volume, claims, response, whether it subsides."""
    row = q.event_row(store, event_id)
    span = q.event_span(store, event_id)
    if row is None or not span["posts"]:
        raise ReportError(f"no event {event_id} with posts in the store (see `yuqing events`)")
    first_ts, last_ts = from_iso(span["first"]), from_iso(span["last"])
    assert first_ts is not None and last_ts is not None
    tz = ZoneInfo(settings.digest.timezone)
    start = first_ts.astimezone(tz).replace(minute=0, second=0, microsecond=0)
    end = last_ts.astimezone(tz).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    hourly = end - start <= timedelta(hours=96)
    off = offset(settings, end)
    series = {b["bucket"]: b for b in q.per_bucket(store, start, end, off, hourly, event_id=event_id)}
    trend, t = [], start
    step = timedelta(hours=1) if hourly else timedelta(days=1)
    if not hourly:
        t = t.replace(hour=0)
    while t < end:
        key = t.strftime("%Y-%m-%d %H") if hourly else t.strftime("%Y-%m-%d")
        b = series.get(key, {"posts": 0, "negative": 0})
        trend.append({"label": t.strftime("%d日%H时") if hourly else t.strftime("%m-%d"), "posts": b["posts"],
                      "negative": b["negative"]})
        t += step
    timeline: list[dict[str, Any]] = []
    first = q.first_post(store, event_id)
    if first:
        said = excerpt(first["title"], first["text"], 40)
        timeline.append({"at": first["ts"], "what": f"首发：{settings.source_title(first['source'])}“{said}”"})
    for s in q.event_sources(store, event_id, first_ts, last_ts + timedelta(seconds=1))[1:]:
        timeline.append({"at": s["first"], "what": f"扩散至 {settings.source_title(s['name'])}（共 {s['posts']} 条）"})
    alerts = q.alerts_in(store, first_ts - timedelta(days=1), utcnow() + timedelta(days=1), "event", str(event_id))
    responses = []
    for a in alerts:
        timeline.append({"at": a["opened_at"], "what": f"发出{LEVEL_NAMES.get(a['level'], a['level'])}预警：{a['title']}"})
        if a["acknowledged_at"]:
            timeline.append({"at": a["acknowledged_at"], "what": f"{a['acknowledged_by'] or '值班人员'}确认预警"
                             + (f"：{a['ack_note']}" if a["ack_note"] else "")})
            responses.append({"at": a["acknowledged_at"], "who": a["acknowledged_by"], "note": a["ack_note"]})
        if a["resolved_at"]:
            timeline.append({"at": a["resolved_at"], "what": "预警解除"})
    cases = q.cases_of_event(store, event_id)
    steps = q.case_steps(store, [int(c["id"]) for c in cases])
    for st in steps:
        what = _step_words(st)
        timeline.append({"at": st["at"], "what": what})
        if st["action"] in ("assess", "assign", "respond", "close", "dismiss"):
            responses.append({"at": st["at"], "who": st["who"], "note": what})
    responses.sort(key=lambda x: x["at"])
    timeline.sort(key=lambda x: x["at"])
    words: Counter[str] = Counter()
    for value in q.event_keywords(store, event_id):
        try:
            words.update(w for w in json.loads(value) if isinstance(w, str))
        except ValueError:
            continue
    keywords = [w for w, _ in words.most_common(10)] or json.loads(row.get("keywords") or "[]")
    peak = max((b["posts"] for b in trend), default=0)
    tail = trend[-min(len(trend), 6 if hourly else 2):]
    tail_avg = sum(b["posts"] for b in tail) / max(len(tail), 1)
    open_alerts = [a for a in alerts if a["state"] != "resolved"]
    open_cases = [c for c in cases if c["state"] not in ("办结", "不予处置")]
    subsiding = bool(peak) and tail_avg <= peak / 2 and not open_alerts
    data = {
        "kind": "event", "ref": str(event_id), "id": event_id, "locality": settings.locality.name,
        "timezone": settings.digest.timezone, "built_at": to_iso(utcnow()), "event_title": row["title"],
        "first_seen": span["first"], "last_seen": span["last"], "posts": span["posts"], "negative": span["negative"],
        "negative_share": share(span["negative"], span["posts"]),
        "sources": [s["name"] for s in q.event_sources(store, event_id, first_ts, last_ts + timedelta(seconds=1))],
        "trend": trend, "hourly": hourly, "timeline": timeline, "keywords": keywords,
        "posts_shown": [post_summary(p) for p in q.event_posts(store, event_id, first_ts, last_ts + timedelta(seconds=1), 5)],
        "responses": responses, "alerts": len(alerts), "open_alerts": len(open_alerts), "subsiding": subsiding,
        "peak": peak, "tail_avg": round(tail_avg, 1),
        "cases": [{"id": c["id"], "level": c["level"], "state": c["state"], "title": c["title"], "unit": c["unit"],
                   "verdict": c["verdict"], "response_url": c["response_url"], "summary": c["summary"]}
                  for c in cases],
        "open_cases": len(open_cases),
        "trace": sections.trace(settings, store, event_id),  # 传播/溯源
    }
    data["title"] = f"关于“{row['title']}”的舆情专报"
    data["summary"] = (
        f"{_local(settings, span['first'])}起，{settings.locality.name}出现“{row['title']}”相关信息，"
        f"截至{_local(settings, span['last'])}共 {span['posts']} 条，负面占比 {pct(data['negative_share'])}，"
        f"涉及 {len(data['sources'])} 个来源。"
        + (f"期间发出预警 {len(alerts)} 条，{len(open_alerts)} 条未解除。" if alerts else "")
        + (f"已立案 {len(cases)} 件，{len(open_cases)} 件未办结。" if cases else "")
        + ("目前舆情已明显回落。" if subsiding else "目前舆情尚未回落，需持续关注。"))
    return titled(settings, data)


def _local(settings: Settings, value: str) -> str:
    parsed = from_iso(value)
    assert parsed is not None
    return parsed.astimezone(ZoneInfo(settings.digest.timezone)).strftime("%m月%d日%H时")


_ACTIONS = {"open": "立案", "join": "并入预警", "escalate": "升级", "assess": "研判", "assign": "交办",
            "respond": "回应", "close": "办结", "dismiss": "不予处置", "overdue": "超期"}


def _step_words(step: dict[str, Any]) -> str:
    """One case step as a timeline line: 案件#3 交办（张三）：县水务局，回应时限……"""
    try:
        detail = json.loads(step["detail"] or "{}")
    except ValueError:
        detail = {}
    extra = ""
    if step["action"] == "assess" and detail.get("verdict"):
        extra = f"研判为{detail['verdict']}，{LEVEL_NAMES.get(detail.get('level', ''), detail.get('level', ''))}"
    elif step["action"] == "assign" and detail.get("unit"):
        extra = f"交办{detail['unit']}"
    elif step["action"] == "respond" and detail.get("url"):
        extra = f"公开回应 {detail['url']}"
    words = "，".join(w for w in (extra, step["note"] or "") if w)
    return (f"案件#{step['case_id']} {_ACTIONS.get(step['action'], step['action'])}（{step['who']}）"
            + (f"：{words}" if words else ""))


def collect_case(settings: Settings, store: Store, case_id: int) -> dict[str, Any]:
    """A 专报 for a case: the report on its (first) event, with the case's steps in the timeline."""
    row = q.case_row(store, case_id)
    if row is None:
        raise ReportError(f"unknown case {case_id} (see `yuqing cases list`)")
    events = [int(e) for e in json.loads(row.get("events") or "[]")]
    if not events:
        raise ReportError(f"case {case_id} has no event to report on (use --event N)")
    data = collect_event(settings, store, events[0])
    data["ref"] = f"case-{case_id}"
    data["case_id"] = case_id
    return data
