"""The web app's case pages: the board by state, one case (timeline, posts, trend, actions), and the
actions themselves (login + CSRF from the app; the audit row is written by the workflow, in the same
transaction as the step). Views have the signature `view(app, req) -> Response`.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from yuqing.cases import model, workflow
from yuqing.cases.report import describe
from yuqing.digest import charts
from yuqing.store import cases as db
from yuqing.web.app import HTTPError, Request, Response, WebApp

logger = logging.getLogger(__name__)

DONE = {"assess": "已记录研判。", "assign": "已交办，承办单位已收到通知。", "respond": "已记录回应。",
        "close": "案件已办结。", "dismiss": "已不予处置。", "open": "已立案。"}


def _page(app: WebApp, req: Request, template: str, **ctx: Any) -> Response:
    from yuqing.web.views import page

    return page(app, req, template, **ctx)


def _id(value: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise HTTPError(404, f"案件编号无效：{value}") from None


def board(app: WebApp, req: Request) -> Response:
    with app.reader() as store:
        rows = [describe(app.settings, store, c, with_effect=False) for c in db.listing(store)]
    columns = [{"state": s, "cases": [c for c in rows if c["state"] == s]} for s in model.STATES]
    return _page(app, req, "cases", title="案件", columns=columns, total=len(rows))


def case(app: WebApp, req: Request) -> Response:
    case_id = _id(req.params["id"])
    tz = ZoneInfo(app.settings.digest.timezone)
    with app.reader() as store:
        row = db.get(store, case_id)
        if row is None:
            raise HTTPError(404, f"案件 {case_id} 不存在。")
        data = describe(app.settings, store, row)
        alerts = db.alert_rows(store, case_id)
        posts = db.event_posts(store, row["events"], 30) or db.posts_by_id(
            store, [int(p["id"]) for p in row["posts"] if p.get("id") is not None])
    hours = data["effect"]["hours"][:24 * 7]  # from a day before the case, a week at most
    points = [{"label": datetime.fromisoformat(h["hour"]).astimezone(tz).strftime("%d日%H时"),
               "posts": h["negative"], "negative": h["negative"]} for h in hours]
    chart = charts.timeline(points, title="负面帖子每小时") if points else ""
    flash = DONE.get(req.query.get("done", ""), "")
    return _page(app, req, "case", title=f"案件 #{case_id}：{row['title']}", c=data, alerts=alerts, posts=posts,
                 chart=chart, flash=flash, units=[u.name for u in app.settings.units],
                 verdicts=model.VERDICTS, allowed={a: data["state"] in s for a, s in model.ALLOWED.items()})


def act(app: WebApp, req: Request) -> Response:
    case_id = _id(req.params["id"])
    action = req.params["action"]
    f = req.form
    who = req.user or ""
    steps = {
        "assess": lambda s: workflow.assess(app.settings, s, case_id, verdict=f.get("verdict", ""),
                                            level=f.get("level") or None, note=f.get("note", ""), who=who),
        "assign": lambda s: workflow.assign(app.settings, s, case_id, unit=f.get("unit", ""), due=f.get("due") or None,
                                            close_by=f.get("close_by") or None, note=f.get("note", ""), who=who),
        "respond": lambda s: workflow.respond(app.settings, s, case_id, url=f.get("url", ""), note=f.get("note", ""),
                                              who=who),
        "close": lambda s: workflow.close(app.settings, s, case_id, summary=f.get("summary", ""), who=who),
        "dismiss": lambda s: workflow.dismiss(app.settings, s, case_id, reason=f.get("reason", ""), who=who),
    }
    if action not in steps:
        raise HTTPError(404, "页面不存在。")
    with app.writer() as store:
        try:
            steps[action](store)
        except model.CaseError as exc:
            raise HTTPError(400 if exc.code == 2 else 409, _words(exc)) from None
    logger.info("case %d: %s by %s", case_id, action, who)
    return Response.redirect(f"/case/{case_id}?done={action}")


def open_case(app: WebApp, req: Request) -> Response:
    """The 立案 button of a post or an event page."""
    f = req.form

    def number(key: str) -> int | None:
        value = f.get(key, "").strip()
        if not value:
            return None
        if not value.isdigit():
            raise HTTPError(400, f"{key} 应为编号：{value}")
        return int(value)

    with app.writer() as store:
        try:
            row = workflow.open_manual(app.settings, store, post_id=number("post"), event_id=number("event"),
                                       level=f.get("level") or "黄", note=f.get("note", ""), who=req.user or "")
        except model.CaseError as exc:
            raise HTTPError(400 if exc.code == 2 else 404, _words(exc)) from None
    return Response.redirect(f"/case/{row['id']}?done=open")


def _words(exc: model.CaseError) -> str:
    return f"无法完成：{exc}"


ROUTES: list[tuple[str, str, Any, str]] = [
    ("GET", r"/cases", board, "read"),
    ("GET", r"/case/(?P<id>\d+)", case, "read"),
    ("POST", r"/case/(?P<id>\d+)/(?P<action>assess|assign|respond|close|dismiss)", act, "login"),
    ("POST", r"/cases/open", open_case, "login"),
]
