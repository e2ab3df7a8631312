"""The web app's pages and actions: archive, digest, event, alert, post, search, login.

Each view takes (app, request) and returns a Response. Reading views open the store read-only;
the two analysts' actions (acknowledge an alert, correct a post) and login write one transaction
each, with an audit_log row in the same transaction.
"""

from __future__ import annotations

import json
import logging
import re
from collections import OrderedDict
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

from yuqing.digest import charts, render, sections
from yuqing.store import sessions
from yuqing.web import auth
from yuqing.digest.builder import day_bounds, excerpt
from yuqing.web.app import PRE_COOKIE, SESSION_COOKIE, HTTPError, Request, Response, WebApp, safe_next
from yuqing.localtime import formatter
from yuqing.models import LABELS, to_iso, utcnow

logger = logging.getLogger(__name__)

PAGE_SIZE = 30
MAX_NOTE = 1000


def page(app: WebApp, req: Request, template: str, *, status: int = 200, **ctx: Any) -> Response:
    local = formatter(app.settings.digest.timezone)  # as in the CLI and emails
    ctx.setdefault("title", "舆情监测")
    ctx.setdefault("source_title", app.settings.source_title)
    html = render.web_page(template, user=req.user, csrf=app.csrf(req), local=local, req=req, **ctx)
    return Response(html, status)


def error_page(app: WebApp, req: Request, status: int, message: str) -> Response:
    return page(app, req, "message", status=status, title=f"{status}", heading=str(status), message=message)


def _int(value: str, what: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise HTTPError(404, f"{what}编号无效：{value}") from None
    if not 0 <= number < 2**63:  # SQLite's integers: a larger id cannot exist (and would not bind)
        raise HTTPError(404, f"{what} {value[:30]} 不存在。")
    return number


def _local_date(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise HTTPError(400, f"{field}不是有效日期（应为 YYYY-MM-DD）：{value}") from None


# -- digests -------------------------------------------------------------------------------------
def home(app: WebApp, req: Request) -> Response:
    with app.reader() as store:
        latest = store.scalar("SELECT max(date) FROM digests")
    return Response.redirect(f"/digest/{latest}" if latest else "/digests")


def archive(app: WebApp, req: Request) -> Response:
    with app.reader() as store:
        rows = store.query(
            "SELECT date, built_at, json_extract(data, '$.overview.posts') AS posts, "
            "json_extract(data, '$.overview.negative') AS negative, "
            "json_extract(data, '$.overview.negative_share') AS share, "
            "json_array_length(data, '$.alerts') AS alerts, json_array_length(data, '$.events') AS events "
            "FROM digests ORDER BY date DESC"
        )
    months: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()
    for r in rows:
        months.setdefault(r["date"][:7], []).append(r)
    peak = max((r["posts"] or 0 for r in rows), default=0) or 1
    return page(app, req, "archive", title="日报归档", months=months, peak=peak)


def digest(app: WebApp, req: Request) -> Response:
    day = _local_date(req.params["date"], "日期").isoformat()
    with app.reader() as store:
        row = store.query("SELECT data FROM digests WHERE date = ?", [day])
        near = store.query(
            "SELECT (SELECT max(date) FROM digests WHERE date < ?) AS prev, "
            "(SELECT min(date) FROM digests WHERE date > ?) AS next", [day, day])[0]
    if not row:
        raise HTTPError(404, f"{day} 的日报尚未生成（运行 yuqing digest --date {day}）。")
    data = json.loads(row[0]["data"])
    html = render.page(data, base="", web=True, user=req.user, csrf=app.csrf(req), prev=near["prev"], next=near["next"])
    return Response(html)


# -- events, alerts, posts -----------------------------------------------------------------------
def _buckets(rows: list[dict[str, Any]], tz: ZoneInfo) -> list[dict[str, Any]]:
    """Posts per hour (per day when the event spans more than three days), gaps filled with zeros."""
    if not rows:
        return []
    times = [datetime.fromisoformat(r["ts"]).astimezone(tz) for r in rows]
    daily = (times[-1] - times[0]) > timedelta(days=3)
    step = timedelta(days=1) if daily else timedelta(hours=1)

    def floor(t: datetime) -> datetime:
        return t.replace(hour=0, minute=0, second=0) if daily else t.replace(minute=0, second=0)

    counts: dict[datetime, list[int]] = {}
    for t, r in zip(times, rows, strict=True):
        c = counts.setdefault(floor(t), [0, 0])
        c[0] += 1
        c[1] += int(r["label"] == "negative")
    out: list[dict[str, Any]] = []
    cur, end = floor(times[0]), floor(times[-1])
    while cur <= end and len(out) < 400:
        posts, neg = counts.get(cur, [0, 0])
        out.append({"label": cur.strftime("%m-%d" if daily else "%d日%H时"), "posts": posts, "negative": neg})
        cur = floor((cur + step).astimezone(tz))
    return out


def event(app: WebApp, req: Request) -> Response:
    event_id = _int(req.params["id"], "事件")
    tz = ZoneInfo(app.settings.digest.timezone)
    with app.reader() as store:
        rows = store.query("SELECT * FROM events WHERE id = ?", [event_id])
        if not rows:
            raise HTTPError(404, f"事件 {event_id} 不存在。")
        ev = rows[0]
        times = store.query("SELECT ts, label FROM posts WHERE event_id = ? ORDER BY ts", [event_id])
        posts = store.query(
            "SELECT id, source, ts, url, title, text, label, negative_prob, topics, reposts, comments, likes "
            "FROM posts WHERE event_id = ? ORDER BY ts DESC LIMIT 200", [event_id])
        alerts = store.query("SELECT id, level, state, title, opened_at FROM alerts WHERE kind = 'event' AND key = ? "
                             "ORDER BY opened_at DESC", [str(event_id)])
        spread = sections.trace(app.settings, store, event_id)  # 传播/溯源
    for p in posts:
        p["excerpt"] = excerpt("", p["text"] or p["title"], 160)
        p["topics"] = json.loads(p["topics"] or "[]")
    negative = sum(1 for t in times if t["label"] == "negative")
    sources: dict[str, int] = {}
    for p in posts:
        sources[p["source"]] = sources.get(p["source"], 0) + 1
    chart = charts.timeline(_buckets(times, tz), title=f"{ev['title']} 的帖子随时间分布")
    return page(app, req, "event", title=f"事件：{ev['title']}", ev=ev, posts=posts, total=len(times),
                negative=negative, chart=chart, alerts=alerts, keywords=json.loads(ev["keywords"] or "[]"),
                sources=sorted(sources.items(), key=lambda kv: -kv[1]), trace=spread,
                reach_svg=sections.reach_svg(spread["curve"], f"{ev['title']} 传播量（转评赞）")
                if spread and spread["curve"] else None)


_KNOWN = {"scope", "level", "level_name", "windows", "best_window", "top_posts", "top_terms", "sources", "topics",
          "event", "timeline"}


def _pairs(value: Any) -> list[tuple[str, Any]]:
    """[[name, count, ...], ...] -> [(name, count)], skipping anything of another shape."""
    if not isinstance(value, list):
        return []
    return [(str(v[0]), v[1]) for v in value if isinstance(v, (list, tuple)) and len(v) >= 2]


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _explanation(raw: str) -> dict[str, Any]:
    """An alert's explanation (written by the alerts stage) in parts the page lays out; keys it does
    not know are listed as text, so nothing the detector recorded is hidden."""
    try:
        data = json.loads(raw or "{}")
    except ValueError:
        data = {"explanation": raw}
    if not isinstance(data, dict):
        data = {"explanation": data}
    other = [(k, v if isinstance(v, str) else json.dumps(v, ensure_ascii=False))
             for k, v in data.items() if k not in _KNOWN]
    return {
        "windows": _dicts(data.get("windows")),
        "posts": [p for p in _dicts(data.get("top_posts")) if "id" in p],
        "terms": _pairs(data.get("top_terms")),
        "topics": _pairs(data.get("topics")),
        "sources": _pairs(data.get("sources")),
        "timeline": _dicts(data.get("timeline")),
        "other": other,
    }


def alerts_list(app: WebApp, req: Request) -> Response:
    state = req.query.get("state", "")
    with app.reader() as store:
        if state in ("open", "escalated", "resolved"):
            rows = store.query("SELECT * FROM alerts WHERE state = ? ORDER BY opened_at DESC LIMIT 300", [state])
        elif state == "active":
            rows = store.query("SELECT * FROM alerts WHERE state != 'resolved' ORDER BY opened_at DESC LIMIT 300")
        else:
            rows = store.query("SELECT * FROM alerts ORDER BY opened_at DESC LIMIT 300")
    return page(app, req, "alerts", title="预警", alerts=rows, state=state)


def alert(app: WebApp, req: Request) -> Response:
    alert_id = _int(req.params["id"], "预警")
    with app.reader() as store:
        rows = store.query("SELECT * FROM alerts WHERE id = ?", [alert_id])
        if not rows:
            raise HTTPError(404, f"预警 {alert_id} 不存在。")
        a = rows[0]
        event_row = None
        if a["kind"] == "event" and a["key"].isdigit():
            found = store.query("SELECT id, title FROM events WHERE id = ?", [int(a["key"])])
            event_row = found[0] if found else None
        history = store.query("SELECT at, user, json_extract(detail, '$.note') AS note FROM audit_log "
                              "WHERE action = 'alert.ack' AND json_extract(detail, '$.alert') = ? ORDER BY id",
                              [alert_id])
        from yuqing.store.cases import case_of_alert

        case_id = case_of_alert(store, alert_id)
    return page(app, req, "alert", title=f"预警：{a['title']}", a=a, x=_explanation(a["explanation"]),
                event=event_row, history=history, case_id=case_id, flash=req.query.get("done") and "已确认该预警。")


def acknowledge(app: WebApp, req: Request) -> Response:
    alert_id = _int(req.params["id"], "预警")
    note = req.form.get("note", "").strip()
    if len(note) > MAX_NOTE:
        raise HTTPError(400, f"备注过长（最多 {MAX_NOTE} 字）。")
    from yuqing.alerts.lifecycle import acknowledge as acknowledge_alert

    with app.writer() as store:
        if not acknowledge_alert(store, alert_id, req.user or "", note):
            raise HTTPError(404, f"预警 {alert_id} 不存在。")
    logger.info("alert %d acknowledged by %s", alert_id, req.user)
    return Response.redirect(f"/alert/{alert_id}?done=1")


def post(app: WebApp, req: Request) -> Response:
    post_id = _int(req.params["id"], "帖子")
    with app.reader() as store:
        p = store.get_post_row(post_id)
        if not p:
            raise HTTPError(404, f"帖子 {post_id} 不存在。")
        fixes = store.query("SELECT * FROM corrections WHERE post_id = ? ORDER BY id DESC", [post_id])
    p["topics"] = json.loads(p["topics"] or "[]")
    p["keywords"] = json.loads(p["keywords"] or "[]")
    for f in fixes:
        f["topics"] = json.loads(f["topics"]) if f["topics"] else None
    return page(app, req, "post", title=p["title"] or f"帖子 {post_id}", p=p, fixes=fixes, labels=LABELS,
                flash=req.query.get("done") and "更正已保存。")


def correct(app: WebApp, req: Request) -> Response:
    """An analyst's correction: kept in `corrections` (the sentiment retraining reads them) and applied
    to the post, so the web app and later digests show the analyst's word, not the model's."""
    post_id = _int(req.params["id"], "帖子")
    label = req.form.get("label", "").strip()
    topics_raw = req.form.get("topics", "").strip()
    note = req.form.get("note", "").strip()
    if label and label not in LABELS:
        raise HTTPError(400, f"情感标签必须是 {' / '.join(LABELS)} 之一，收到：{label}")
    topics = [t for t in re.split(r"[,，、\s]+", topics_raw) if t] if topics_raw else None
    if topics is not None and (len(topics) > 20 or any(len(t) > 40 for t in topics)):
        raise HTTPError(400, "话题过多或过长（最多 20 个，每个不超过 40 字）。")
    if topics_raw == "-":
        topics = []  # "-" clears the topics
    if not label and topics is None:
        raise HTTPError(400, "请至少更正情感或话题中的一项。")
    if len(note) > MAX_NOTE:
        raise HTTPError(400, f"备注过长（最多 {MAX_NOTE} 字）。")
    with app.writer() as store:
        with store.transaction():
            old = store.conn.execute("SELECT label, topics FROM posts WHERE id = ?", (post_id,)).fetchone()
            if not old:
                raise HTTPError(404, f"帖子 {post_id} 不存在。")
            topics_json = json.dumps(topics, ensure_ascii=False) if topics is not None else None
            store.conn.execute(
                "INSERT INTO corrections(post_id, label, topics, who, at, note) VALUES (?, ?, ?, ?, ?, ?)",
                (post_id, label or None, topics_json, req.user, to_iso(utcnow()), note or None),
            )
            store.conn.execute("UPDATE posts SET label = coalesce(?, label), topics = coalesce(?, topics) WHERE id = ?",
                               (label or None, topics_json, post_id))
            auth.audit(store, req.user or "", "post.correct",
                       {"post": post_id, "label": [old[0], label or old[0]],
                        "topics": [json.loads(old[1] or "[]"), topics if topics is not None else json.loads(old[1] or "[]")],
                        "note": note}, commit=False)
    return Response.redirect(f"/post/{post_id}?done=1")


# -- search --------------------------------------------------------------------------------------
def highlight(text: str, terms: list[str]) -> Markup:
    """Escape `text`, then mark the query's words (marking after escaping keeps it safe)."""
    if not terms:
        return escape(text)
    pattern = re.compile("|".join(re.escape(t) for t in sorted(set(terms), key=len, reverse=True)))
    out, last = [], 0
    for m in pattern.finditer(text):
        out.append(escape(text[last : m.start()]))
        out.append(Markup("<mark>") + escape(m.group(0)) + Markup("</mark>"))
        last = m.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)


def search(app: WebApp, req: Request) -> Response:
    from yuqing.analysis.segment import cut

    q = req.query
    text = q.get("q", "").strip()[:200]
    label = q.get("label", "")
    if label and label not in LABELS:
        raise HTTPError(400, f"情感筛选必须是 {' / '.join(LABELS)} 之一。")
    since = until = None
    if q.get("since"):
        since = day_bounds(app.settings, _local_date(q["since"], "起始日期"))[0]
    if q.get("until"):
        until = day_bounds(app.settings, _local_date(q["until"], "截止日期"))[1]
    page_no = max(1, min(_int(q.get("page", "1") or "1", "页"), 1000))
    searched = any(q.get(k) for k in ("q", "since", "until", "source", "topic", "label"))
    hits: list[Any] = []
    with app.reader() as store:
        sources = [r["name"] for r in store.query("SELECT name FROM sources ORDER BY name")]
        latest = store.query("SELECT data FROM digests ORDER BY date DESC LIMIT 1")
        if searched:
            hits = store.search(text, since=since, until=until, source=q.get("source") or None,
                                topic=q.get("topic") or None, label=label or None,
                                limit=PAGE_SIZE + 1, offset=(page_no - 1) * PAGE_SIZE)
    topics = [t["name"] for t in json.loads(latest[0]["data"])["topics"]] if latest else []
    more = len(hits) > PAGE_SIZE
    hits = hits[:PAGE_SIZE]
    terms = cut(text) if text else []
    results = [{
        "id": h.post.id, "source": h.post.source, "ts": to_iso(h.post.when), "url": h.post.url,
        "title": highlight(h.post.title, terms), "excerpt": highlight(excerpt("", h.post.text or h.post.title, 160), terms),
        "label": h.label, "topics": h.topics, "event_id": h.event_id,
    } for h in hits]
    keep = {k: v for k, v in q.items() if k != "page" and v}
    return page(app, req, "search", title=f"搜索：{text}" if text else "搜索", q=q, results=results,
                searched=searched, sources=sources, topics=topics, labels=LABELS, page_no=page_no,
                next_url=f"/search?{urlencode({**keep, 'page': page_no + 1})}" if more else None,
                prev_url=f"/search?{urlencode({**keep, 'page': page_no - 1})}" if page_no > 1 else None)


# -- login ---------------------------------------------------------------------------------------
def login_form(app: WebApp, req: Request) -> Response:
    return page(app, req, "login", title="登录", next=safe_next(req.query.get("next")), name="")


def login(app: WebApp, req: Request) -> Response:
    name = req.form.get("name", "").strip()
    password = req.form.get("password", "")
    target = safe_next(req.form.get("next"))
    who = name[:64] or "(empty)"
    with app.writer() as store:
        wait = auth.locked_out(store, who, req.client)
        if wait:
            # no password is checked while locked: guessing costs nothing but time, and gets nothing
            auth.audit(store, who, "login.locked", {"client": req.client, "retry_in": wait})
            logger.warning("login for %s from %s refused: locked for %d s", who, req.client, wait)
            minutes = max(1, (wait + 59) // 60)
            return page(app, req, "login", status=429, title="登录", next=target, name=name,
                        error=f"登录失败次数过多，已暂时锁定，请 {minutes} 分钟后再试。")
        ok = bool(name) and auth.check_login(store, name, password)
        sessions.record_attempt(store, who, req.client, ok)
        auth.audit(store, who, "login" if ok else "login.failed", {"client": req.client})
    if not ok:
        return page(app, req, "login", status=401, title="登录", next=target, name=name, error="用户名或密码错误。")
    cookie = app.start_session(name)
    resp = Response.redirect(target)
    resp.headers.append(("Set-Cookie", app.cookie(SESSION_COOKIE, cookie)))
    resp.headers.append(("Set-Cookie", app.cookie(PRE_COOKIE, "", max_age=0)))
    req.pre_nonce = None
    return resp


def logout(app: WebApp, req: Request) -> Response:
    app.end_session(req)
    resp = Response.redirect("/")
    resp.headers.append(("Set-Cookie", app.cookie(SESSION_COOKIE, "", max_age=0)))
    return resp


def favicon(app: WebApp, req: Request) -> Response:
    return Response(b"", 204, "image/x-icon")


ROUTES: list[tuple[str, str, Any, str]] = [
    ("GET", r"/", home, "read"),
    ("GET", r"/digests", archive, "read"),
    ("GET", r"/digest/(?P<date>[0-9-]+)", digest, "read"),
    ("GET", r"/event/(?P<id>\d+)", event, "read"),
    ("GET", r"/alerts", alerts_list, "read"),
    ("GET", r"/alert/(?P<id>\d+)", alert, "read"),
    ("POST", r"/alert/(?P<id>\d+)/ack", acknowledge, "login"),
    ("GET", r"/post/(?P<id>\d+)", post, "read"),
    ("POST", r"/post/(?P<id>\d+)/correct", correct, "login"),
    ("GET", r"/search", search, "read"),
    ("GET", r"/login", login_form, "public"),
    ("POST", r"/login", login, "public"),
    ("POST", r"/logout", logout, "public"),
    ("GET", r"/favicon.ico", favicon, "public"),
]

from yuqing.web import cases as _cases  # noqa: E402  (the case pages; they use page() above)

ROUTES += _cases.ROUTES

from yuqing.web import reports as _reports  # noqa: E402  (reports, trend, downloads)

ROUTES += _reports.ROUTES
