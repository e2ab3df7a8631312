"""The data of a period report (日报/周报/月报) and of a 专报 on one event, as JSON-able dicts.

Every format (html, docx, pdf, xlsx) is rendered from the same dict, so the figures agree. The
summary paragraph is sentences filled from those figures, no language model. Figures come from SQL
aggregates (yuqing.store.reports), so a month of 1.5 million posts is never held in memory.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from yuqing.digest import sections
from yuqing.digest.builder import excerpt, source_weight
from yuqing.digest.report_figures import Figures
from yuqing.errors import YuqingError
from yuqing.models import LEVELS, from_iso, to_iso, utcnow
from yuqing.settings import Settings
from yuqing.store import Store
from yuqing.store import reports as q

logger = logging.getLogger(__name__)

PERIODS = ("day", "week", "month")
PERIOD_NAMES = {"day": "日报", "week": "周报", "month": "月报"}
PREV_NAMES = {"day": "前日", "week": "上周", "month": "上月"}
FORMATS = ("html", "docx", "pdf", "xlsx")


class ReportError(YuqingError):
    """A report cannot be built from what was asked (unknown event, bad period)."""


@dataclass(frozen=True)
class Period:
    kind: str
    first: date  # local dates, inclusive
    last: date

    @property
    def ref(self) -> str:
        return self.first.isoformat() if self.kind == "day" else f"{self.first}_{self.last}"

    def previous(self) -> Period:
        if self.kind == "month":
            last = self.first - timedelta(days=1)
            return Period("month", last.replace(day=1), last)
        span = (self.last - self.first).days + 1
        return Period(self.kind, self.first - timedelta(days=span), self.first - timedelta(days=1))


def period_ending(kind: str, end: date) -> Period:
    """The day, the 7 days, or the calendar month ending with `end` (inclusive)."""
    if kind == "day":
        return Period("day", end, end)
    if kind == "week":
        return Period("week", end - timedelta(days=6), end)
    if kind == "month":
        return Period("month", end.replace(day=1), end)
    raise ReportError(f"unknown period {kind!r} (day, week or month)")


def bounds(settings: Settings, first: date, last: date) -> tuple[datetime, datetime]:
    tz = ZoneInfo(settings.digest.timezone)
    return datetime.combine(first, time(0), tz), datetime.combine(last + timedelta(days=1), time(0), tz)


def offset(settings: Settings, at: datetime) -> str:
    """SQLite modifier for the zone's UTC offset at `at` ("+480 minutes")."""
    delta = at.astimezone(ZoneInfo(settings.digest.timezone)).utcoffset() or timedelta(0)
    return f"{int(delta.total_seconds() // 60):+d} minutes"


def share(neg: int, total: int) -> float | None:
    return neg / total if total else None


def _change(now: float | None, before: float | None) -> float | None:
    if now is None or before is None or before == 0:
        return None
    return (now - before) / before


def _weights(settings: Settings) -> dict[str, float]:
    names = {s.name for s in settings.sources} | set(settings.alerts.source_weights)
    return {n: source_weight(settings, n) for n in names}


def _with_change(now: list[dict[str, Any]], before: list[dict[str, Any]]) -> list[dict[str, Any]]:
    prev = {r["name"]: r for r in before}
    out = []
    for r in now:
        p = prev.get(r["name"], {"posts": 0, "negative": 0})
        out.append({**r, "prev_posts": p["posts"], "change": _change(r["posts"], p["posts"]),
                    "negative_share": share(r["negative"], r["posts"])})
    return out


# -- 预警与处置 --------------------------------------------------------------------------------------
_FIGURES = ("opened", "responded", "closed", "overdue")


def _late(due: Any, done: Any, cutoff: str) -> bool:
    """A deadline that fell before `cutoff` and was not met by then (ISO strings compare as times)."""
    return bool(due) and due < cutoff and (not done or done > due)


def disposal(settings: Settings, store: Store, start: datetime, end: datetime,
             now: datetime | None = None) -> dict[str, Any]:
    """Cases of the period (研判·处置): opened / responded / closed (办结) / overdue, by level.

    A case counts as overdue when its first-response or 办结 deadline fell before the period's end
    (or now, for a period still running) and was missed: later or still not done. The alerts raised in
    the period are counted beside, the acknowledgement deadline being `[reports] respond_within`.
    """
    s, e = to_iso(start), to_iso(end)
    cutoff = to_iso(min(end, now or utcnow()))
    assert s is not None and e is not None and cutoff is not None
    levels = {lvl: dict.fromkeys(_FIGURES, 0) for lvl in reversed(LEVELS)}  # red first
    items = []
    for c in q.cases_in(store, start, end):
        lv = levels.setdefault(c["level"], dict.fromkeys(_FIGURES, 0))
        # a case dismissed before its response was due owed no response
        answered = c["responded_at"] or (c["closed_at"] if c["state"] == "不予处置" else None)
        overdue = _late(c["respond_due"], answered, cutoff) or _late(c["close_due"], c["closed_at"], cutoff)
        flags = {
            "opened": s <= c["opened_at"] < e,
            "responded": bool(c["responded_at"]) and s <= c["responded_at"] < e,
            "closed": c["state"] == "办结" and bool(c["closed_at"]) and s <= c["closed_at"] < e,
            "overdue": bool(overdue),
        }
        for k, v in flags.items():
            lv[k] += int(v)
        items.append({"id": c["id"], "level": c["level"], "state": c["state"], "title": c["title"] or f"案件{c['id']}",
                      "opened_at": c["opened_at"], "unit": c["unit"], "verdict": c["verdict"],
                      "responded_at": c["responded_at"], "closed_at": c["closed_at"],
                      "respond_due": c["respond_due"], "close_due": c["close_due"], "overdue": bool(overdue),
                      "events": json.loads(c["events"] or "[]")})
    rank = {lvl: i for i, lvl in enumerate(LEVELS)}
    items.sort(key=lambda a: (-rank.get(a["level"], -1), a["opened_at"]))
    total = {k: sum(v[k] for v in levels.values()) for k in _FIGURES}
    return {"source": "cases", "levels": levels, "total": total, "cases": items,
            "alerts": _alert_figures(settings, store, start, end)}


def _alert_figures(settings: Settings, store: Store, start: datetime, end: datetime) -> dict[str, Any]:
    """Alerts raised in the period, acknowledged, and not acknowledged within respond_within."""
    within = timedelta(seconds=float(settings.reports.respond_within))
    s, e = to_iso(start), to_iso(end)
    out: dict[str, Any] = {"opened": 0, "acknowledged": 0, "overdue": 0, "by_level": dict.fromkeys(LEVELS, 0)}
    for r in q.alerts_in(store, start, end):
        opened = from_iso(r["opened_at"])
        if opened is None or not s <= r["opened_at"] < e:
            continue
        out["opened"] += 1
        out["by_level"][r["level"]] = out["by_level"].get(r["level"], 0) + 1
        acked = from_iso(r["acknowledged_at"]) if r["acknowledged_at"] else None
        out["acknowledged"] += int(acked is not None)
        limit = opened + within
        resolved = from_iso(r["resolved_at"]) if r["resolved_at"] else None
        out["overdue"] += int(limit < min(end, utcnow()) and (acked is None or acked > limit)
                              and not (resolved and resolved <= limit))
    return out


# -- a period ------------------------------------------------------------------------------------
def collect_period(settings: Settings, store: Store, period: Period) -> dict[str, Any]:
    start, end = bounds(settings, period.first, period.last)
    prev = period.previous()
    pstart, pend = bounds(settings, prev.first, prev.last)
    off = offset(settings, end - timedelta(seconds=1))
    weights = _weights(settings)
    top = settings.digest.top
    tz = settings.digest.timezone
    fig, pfig = Figures(store, start, end, tz), Figures(store, pstart, pend, tz)
    now, before = fig.counts(), pfig.counts()
    for c in (now, before):
        c["negative_share"] = share(c["negative"], c["analysed"])
    overview = {
        **now, "prev": before,
        "change": {"posts": _change(now["posts"], before["posts"]), "negative": _change(now["negative"], before["negative"]),
                   "share": None if now["negative_share"] is None or before["negative_share"] is None
                   else now["negative_share"] - before["negative_share"]},
    }
    events = []
    for ev in q.event_heat(store, start, end, weights, top):
        row = q.event_row(store, ev["id"]) or {}
        reps = q.event_posts(store, ev["id"], start, end, 3)
        series = q.per_bucket(store, start, end, off, period.kind == "day", event_id=ev["id"])
        events.append({
            "id": ev["id"], "title": row.get("title") or (excerpt(reps[0]["title"], reps[0]["text"], 30) if reps else f"事件{ev['id']}"),
            "posts": ev["posts"], "negative": ev["negative"], "negative_share": share(ev["negative"], ev["posts"]),
            "engagement": ev["engagement"], "heat": round(ev["heat"] or 0, 1),
            "sources": [s["name"] for s in q.event_sources(store, ev["id"], start, end)],
            "keywords": json.loads(row.get("keywords") or "[]")[:6],
            "first_seen": row.get("first_seen"), "last_seen": row.get("last_seen"),
            "trend": [{"label": b["bucket"][-5:] if period.kind != "day" else b["bucket"][-2:] + "时",
                       "posts": b["posts"], "negative": b["negative"]} for b in series],
            "posts_shown": [post_summary(p) for p in reps],
            "reach_curve": sections.reach_curve(store, ev["id"], start, end, tz),
        })
    negatives = [post_summary(p) for p in q.top_negatives(store, start, end, weights, top * 2)]
    groups: dict[str, list[dict[str, Any]]] = {}
    for p in negatives:
        groups.setdefault((p["topics"] or ["未归类"])[0], []).append(p)
    trend = _trend(period, fig)
    sources = _with_change(fig.per_source(), pfig.per_source())
    health = _health(settings, store, end, {s["name"]: s["posts"] for s in sources})
    health["coverage"] = _coverage(settings, store, period, fig, pfig)
    data = {
        "kind": period.kind, "name": PERIOD_NAMES[period.kind], "prev_name": PREV_NAMES[period.kind],
        "ref": period.ref, "first": period.first.isoformat(), "last": period.last.isoformat(),
        "locality": settings.locality.name, "timezone": settings.digest.timezone, "built_at": to_iso(utcnow()),
        "overview": overview,
        "disposal": disposal(settings, store, start, end),
        "events": events,
        "reach": sections.reach(store, start, end, top),
        "negative_groups": [{"topic": k, "posts": v} for k, v in groups.items()],
        "topics": _with_change(fig.per_topic(), pfig.per_topic()),
        "sources": sources,
        "trend": trend,
        "health": health,
    }
    data["title"] = title(data)
    data["summary"] = summary(data)
    return titled(settings, data)


def titled(settings: Settings, data: dict[str, Any]) -> dict[str, Any]:
    """Sources by their `title` (清溪问政) in every format of a report, not by their config names;
    done once on the data so html, docx, pdf and xlsx agree."""
    name = settings.source_title
    posts = list(data.get("posts_shown") or [])
    for e in data.get("events") or []:
        e["sources"] = [name(s) for s in e["sources"]]
        posts += e["posts_shown"]
    for g in data.get("negative_groups") or []:
        posts += g["posts"]
    posts += data.get("reach") or []  # the trace (传播与溯源) is titled where it is built
    for p in posts:
        p["source"] = name(p["source"])
    if data["kind"] == "event":
        data["sources"] = [name(s) for s in data["sources"]]
    else:
        coverage = (data["health"].get("coverage") or {}).get("rows", [])
        for row in data["sources"] + data["health"]["problems"] + coverage:
            row["name"] = name(row["name"])
    return data


def _trend(period: Period, fig: Figures) -> list[dict[str, Any]]:
    hourly = period.kind == "day"
    got = {b["bucket"]: b for b in fig.per_bucket(hourly)}
    out = []
    if hourly:
        for h in range(24):
            key = f"{period.first.isoformat()} {h:02d}"
            b = got.get(key, {"posts": 0, "negative": 0})
            out.append({"label": f"{h:02d}时", "posts": b["posts"], "negative": b["negative"]})
        return out
    day = period.first
    while day <= period.last:
        b = got.get(day.isoformat(), {"posts": 0, "negative": 0})
        out.append({"label": day.strftime("%m-%d"), "posts": b["posts"], "negative": b["negative"]})
        day += timedelta(days=1)
    return out


def _health(settings: Settings, store: Store, end: datetime, posts: dict[str, int]) -> dict[str, Any]:
    enabled = {s.name for s in settings.sources if s.enabled}
    problems, ok = [], 0
    for s in store.sources_health():
        if s["last_error"]:
            state = "failing"
        elif s["name"] in enabled and not posts.get(s["name"]) and (
                not s["last_new_at"] or from_iso(s["last_new_at"]) < end - timedelta(days=1)):  # type: ignore[operator]
            state = "silent"
        else:
            ok += 1
            continue
        problems.append({"name": s["name"], "state": state, "failures": s["failures"], "last_error": s["last_error"],
                         "last_ok_at": s["last_ok_at"], "posts": posts.get(s["name"], 0)})
    return {"problems": problems, "ok": ok}


def _coverage(settings: Settings, store: Store, period: Period, fig: Figures, pfig: Figures) -> dict[str, Any]:
    """Posts per source against the median of the 7 periods before (the first one is read already)."""
    before = [{r["name"]: r["posts"] for r in pfig.per_source()}]
    p = period.previous()
    for _ in range(6):
        p = p.previous()
        before.append(sections.source_counts(store, *bounds(settings, p.first, p.last)))
    return sections.coverage(settings, {r["name"]: r["posts"] for r in fig.per_source()}, before)


def post_summary(p: dict[str, Any]) -> dict[str, Any]:
    return {"id": p["id"], "source": p["source"], "ts": p["ts"], "url": p["url"], "title": p["title"],
            "excerpt": excerpt(p["title"] or "", p["text"] or p["title"] or ""), "label": p["label"],
            "negative_prob": p["negative_prob"], "topics": json.loads(p["topics"] or "[]"),
            "engagement": int(p["reposts"] or 0) + int(p["comments"] or 0) + int(p["likes"] or 0)}


def title(data: dict[str, Any]) -> str:
    if data["kind"] == "day":
        return f"{data['locality']}舆情日报（{data['first']}）"
    return f"{data['locality']}舆情{data['name']}（{data['first']} 至 {data['last']}）"


def pct(v: float | None) -> str:
    return "—" if v is None else f"{100 * v:.1f}%"


def _rel(v: float | None) -> str:
    if v is None:
        return "无可比数据"
    if abs(v) < 0.005:
        return "基本持平"
    return f"{'增长' if v > 0 else '下降'}{abs(100 * v):.0f}%"


def summary(data: dict[str, Any]) -> str:
    """The paragraph at the top, filled from the figures."""
    o, d = data["overview"], data["disposal"]["total"]
    parts = [f"本期（{data['first']} 至 {data['last']}）共监测到涉{data['locality']}信息 {o['posts']} 条，"
             f"较{data['prev_name']}{_rel(o['change']['posts'])}；其中负面 {o['negative']} 条，负面占比 {pct(o['negative_share'])}"]
    if o["change"]["share"] is not None:
        ch = o["change"]["share"]
        parts[-1] += "，与上期持平" if abs(ch) < 0.0005 else f"，{'上升' if ch > 0 else '下降'}{abs(100 * ch):.1f}个百分点"
    parts[-1] += "。"
    a = data["disposal"]["alerts"]
    parts.append(f"发出预警 {a['opened']} 条。" if a["opened"] else "本期无新发预警。")
    if d["opened"] or d["responded"] or d["closed"] or d["overdue"]:
        parts.append(f"新立案 {d['opened']} 件，回应 {d['responded']} 件，办结 {d['closed']} 件"
                     + (f"，超期 {d['overdue']} 件" if d["overdue"] else "") + "。")
    else:
        parts.append("本期无新立处置案件。")
    if data["events"]:
        e = data["events"][0]
        parts.append(f"热度最高的事件为“{e['title']}”，相关信息 {e['posts']} 条，负面占比 {pct(e['negative_share'])}。")
    if data["topics"]:
        t = max(data["topics"], key=lambda x: x["negative"])
        if t["negative"]:
            parts.append(f"负面信息主要集中在“{t['name']}”话题（{t['negative']} 条）。")
    if data["health"]["problems"]:
        parts.append(f"有 {len(data['health']['problems'])} 个信源采集异常，需关注。")
    low = (data["health"].get("coverage") or {}).get("low")
    if low:
        parts.append(f"有 {low} 个信源本期信息量明显低于常量，需核查。")
    return "".join(parts)
