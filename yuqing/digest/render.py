"""Digest data -> HTML page (inline CSS + SVG), email HTML (inline styles, tables only), plain text.

One jinja2 environment with autoescape on for every .html template and for template strings, so
anything that came from a post is escaped unless a template says otherwise (only our own SVG does).
Links to the web app are prefixed with `base` ("" inside the web app, `[alerts] base_url` in a
stored page or an email); links to a post's own site are kept only when they are http(s).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import jinja2
from markupsafe import Markup

from yuqing.digest import charts, sections
from yuqing.localtime import formatter
from yuqing.models import LEVEL_NAMES, LEVEL_ZH

logger = logging.getLogger(__name__)

FONTS = ('-apple-system, "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", '
         '"Source Han Sans SC", "WenQuanYi Micro Hei", sans-serif')
LEVEL_COLORS = {"blue": "#1c7ed6", "yellow": "#e8a200", "orange": "#e8590c", "red": "#c92a2a"}
STATE_NAMES = {"open": "未解除", "escalated": "已升级", "resolved": "已解除"}
LABEL_NAMES = {"negative": "负面", "neutral": "中性", "positive": "正面", None: "未分析"}
KIND_NAMES = {"locality": "全域", "topic": "话题", "event": "事件", "hotlist": "热榜", "spread": "传播",
              "liuyan": "留言", "source": "来源"}
HEALTH_NAMES = {"failing": "采集失败", "silent": "长时间无新帖"}


def pct(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{100 * value:.{digits}f}%"


def delta(value: float | None) -> str:
    """A relative change as ↑12% / ↓5% / 持平; — when there is nothing to compare."""
    if value is None:
        return "—"
    if abs(value) < 0.005:
        return "持平"
    return f"{'↑' if value > 0 else '↓'}{abs(100 * value):.0f}%"


def points(value: float | None) -> str:
    """A change of a share, in percentage points."""
    if value is None:
        return "—"
    if abs(value) < 0.0005:
        return "持平"
    return f"{'↑' if value > 0 else '↓'}{abs(100 * value):.1f}个百分点"


def trend_class(value: float | None) -> str:
    if value is None or abs(value) < 0.005:
        return "flat"
    return "up" if value > 0 else "down"


def safe_url(url: Any) -> str | None:
    """Only http(s) links from a post are linked: javascript: and data: URLs stay plain text (the
    same filter as the alert email's)."""
    from yuqing.delivery.safety import safe_url as filtered

    return filtered(url)


def make_env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("yuqing.digest", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(pct=pct, delta=delta, points=points, trend_class=trend_class, safe_url=safe_url)
    env.globals.update(
        FONTS=FONTS, LEVEL_NAMES=LEVEL_NAMES, LEVEL_ZH=LEVEL_ZH, LEVEL_COLORS=LEVEL_COLORS,
        STATE_NAMES=STATE_NAMES, LABEL_NAMES=LABEL_NAMES, KIND_NAMES=KIND_NAMES, HEALTH_NAMES=HEALTH_NAMES,
        charts=charts, user=None, csrf="", flash=None, error=None,
        source_title=str,  # the web app passes Settings.source_title; a built digest is titled already
    )
    return env


_ENV: jinja2.Environment | None = None


def env() -> jinja2.Environment:
    global _ENV
    if _ENV is None:
        _ENV = make_env()
    return _ENV


def _localtime_filter(tz: str) -> Callable[..., str]:
    """Times on pages as in the CLI and emails (yuqing.localtime): 2024-06-14 10:30, in `tz`."""
    return formatter(tz)


def context(data: dict[str, Any], base: str) -> dict[str, Any]:
    top_topics = data["topics"][:10]
    return {
        "d": data,
        "base": base,
        "local": _localtime_filter(data["timezone"]),
        "trend_svg": charts.trend(data["trend"], title=f"{data['date']} 24小时发帖量与负面占比"),
        "topics_svg": charts.bars(top_topics, title="话题分布"),
        "sources_svg": charts.donut(data["sources"], title="来源分布"),
        "peak_share": max(((s["posts"] / max(data["overview"]["posts"], 1)) for s in data["sources"]), default=0),
        "max_topic": max((t["posts"] for t in top_topics), default=0) or 1,
        "max_hour": max((h["posts"] for h in data["trend"]), default=0) or 1,
        "reach_svgs": {e["id"]: sections.reach_svg(e["reach_curve"], f"{e['title']} 传播量（转评赞，按小时）")
                       for e in data["events"] if e.get("reach_curve")},
    }


def subject(data: dict[str, Any]) -> str:
    o = data["overview"]
    alerts = [a for a in data["alerts"] if a["state"] != "resolved"]
    tail = f"，预警 {len(alerts)} 条" if alerts else ""
    return f"{data['locality']}舆情日报 {data['date']}：{o['posts']} 条，负面 {pct(o['negative_share'])}{tail}"


def page(data: dict[str, Any], *, base: str = "", web: bool = False, **extra: Any) -> str:
    """The self-contained digest page (the stored file, or inside the web app when `web`)."""
    return env().get_template("digest.html").render(**context(data, base), web=web, title=subject(data), **extra)


def email_html(data: dict[str, Any], *, base: str) -> str:
    """The mail: every string from a post with its bidi/control characters shown (safety.visible)."""
    from yuqing.delivery.safety import visible_all

    data = visible_all(data)
    return env().get_template("email.html").render(**context(data, base), title=subject(data))


def text(data: dict[str, Any], *, base: str) -> str:
    from yuqing.delivery.safety import visible_all

    data = visible_all(data)
    return env().get_template("digest.txt").render(**context(data, base), title=subject(data))


def web_page(template: str, **ctx: Any) -> str:
    """A page of the web app (templates/<template>.html extends layout.html)."""
    return env().get_template(f"{template}.html").render(web=True, **ctx)


def markup(value: str) -> Markup:
    return Markup(value)
