"""Alert messages in Chinese: a subject, an HTML body and a plain-text body.

Everything that comes from a post (titles, URLs, terms, source names) goes through jinja2 with
autoescape on in the HTML; the page loads nothing from the network (inline styles, no images).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

from yuqing.delivery.safety import safe_url, visible  # noqa: F401 - also used by the tests from here
from yuqing.localtime import shown as shown_time
from yuqing.models import LEVEL_NAMES, LEVEL_ZH, Alert
from yuqing.settings import Settings

COLOURS = {"blue": "#1f6fd1", "yellow": "#c99a00", "orange": "#e06c00", "red": "#c8102e"}
KIND_NAMES = {"locality": "全域", "topic": "话题", "event": "事件", "hotlist": "热榜", "spread": "传播",
              "liuyan": "留言", "source": "数据源"}
METHOD_NAMES = {"weekly": "过去{n}周同一时段", "daily": "过去{n}天同一时段", "trailing": "此前平均",
                "none": "无历史（按最低基线）"}

HTML = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{{ subject }}</title></head>
<body style="font-family:'Microsoft YaHei','PingFang SC',sans-serif;font-size:14px;color:#222;max-width:760px">
<h2 style="margin:0 0 12px">舆情预警 · {{ locality }}</h2>
<p style="color:#555">检测时间：{{ now }}。共 {{ alerts|length }} 项新增或升级的预警。</p>
{% for a in alerts %}
<div style="border-left:6px solid {{ a.colour }};padding:8px 12px;margin:16px 0;background:#fafafa">
  <h3 style="margin:0 0 6px;color:{{ a.colour }}">{{ a.level_name }}{% if a.escalated %}（升级，原{{ a.from_level }}）{% endif %}
    · {{ a.kind_name }} · {{ a.title }}</h3>
  <p style="margin:4px 0"><b>{{ a.summary }}</b></p>
  {% if a.problem %}<p style="margin:4px 0">{{ a.problem }}</p>{% endif %}
  {% if a.windows %}
  <table style="border-collapse:collapse;font-size:13px;margin:6px 0">
    <tr style="background:#eee"><th style="padding:2px 8px">时间窗</th><th style="padding:2px 8px">负面</th>
      <th style="padding:2px 8px">全部</th><th style="padding:2px 8px">负面占比</th><th style="padding:2px 8px">常态基线</th>
      <th style="padding:2px 8px">概率</th><th style="padding:2px 8px">触发</th></tr>
    {% for w in a.windows %}
    <tr><td style="padding:2px 8px">{{ w.name }}</td><td style="padding:2px 8px">{{ w.negative }}</td>
      <td style="padding:2px 8px">{{ w.total }}</td><td style="padding:2px 8px">{{ w.share }}</td>
      <td style="padding:2px 8px">{{ w.baseline }}（{{ w.method }}）</td><td style="padding:2px 8px">{{ w.p }}</td>
      <td style="padding:2px 8px">{{ "是" if w.fired else "否" }}</td></tr>
    {% endfor %}
  </table>
  {% endif %}
  {% if a.posts %}
  <p style="margin:8px 0 2px"><b>代表帖子</b></p>
  <ol style="margin:0;padding-left:20px">
    {% for p in a.posts %}
    <li>{% if p.href %}<a href="{{ p.href }}">{{ p.title }}</a>{% else %}{{ p.title }} <span style="color:#777">{{ p.url }}</span>{% endif %} <span style="color:#777">（{{ p.source }}，{{ p.when }}）</span></li>
    {% endfor %}
  </ol>
  {% elif a.same_posts %}<p style="margin:6px 0;color:#777">代表帖子同上。</p>
  {% endif %}
  {% if a.terms %}<p style="margin:6px 0">高频词：{{ a.terms }}</p>{% endif %}
  {% if a.sources %}<p style="margin:6px 0">来源：{{ a.sources }}</p>{% endif %}
  {% if a.topics %}<p style="margin:6px 0">话题：{{ a.topics }}</p>{% endif %}
  {% if a.event %}<p style="margin:6px 0">事件：{{ a.event }}</p>{% endif %}
  <p style="margin:6px 0"><a href="{{ a.link }}">在系统中查看（预警 #{{ a.id }}）</a></p>
</div>
{% endfor %}
<p style="color:#888;font-size:12px">本邮件由 yuqing 舆情监测自动发送。预警等级：蓝色(IV级) &lt; 黄色(III级) &lt; 橙色(II级) &lt; 红色(I级)。</p>
</body></html>
"""

TEXT = """舆情预警 · {{ locality }}
检测时间：{{ now }}。共 {{ alerts|length }} 项新增或升级的预警。
{% for a in alerts %}
== {{ a.level_name }}{% if a.escalated %}（升级，原{{ a.from_level }}）{% endif %} · {{ a.kind_name }} · {{ a.title }} ==
{{ a.summary }}
{% if a.problem %}{{ a.problem }}
{% endif %}{% for w in a.windows %}- {{ w.name }}：负面 {{ w.negative }} / 全部 {{ w.total }}（{{ w.share }}），常态基线 {{ w.baseline }}（{{ w.method }}），概率 {{ w.p }}{{ "，触发" if w.fired else "" }}
{% endfor %}{% if a.posts %}代表帖子：
{% for p in a.posts %}{{ loop.index }}. {{ p.title }}（{{ p.source }}，{{ p.when }}）
   {{ p.url }}
{% endfor %}{% elif a.same_posts %}代表帖子同上。
{% endif %}{% if a.terms %}高频词：{{ a.terms }}
{% endif %}{% if a.sources %}来源：{{ a.sources }}
{% endif %}{% if a.topics %}话题：{{ a.topics }}
{% endif %}{% if a.event %}事件：{{ a.event }}
{% endif %}查看：{{ a.link }}
{% endfor %}
-- yuqing 舆情监测自动发送
"""

_HTML_ENV = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
_TEXT_ENV = jinja2.Environment(autoescape=False, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
_HTML_TEMPLATE = _HTML_ENV.from_string(HTML)
_TEXT_TEMPLATE = _TEXT_ENV.from_string(TEXT)


def window_zh(name: str) -> str:
    units = {"m": "分钟", "h": "小时", "d": "天", "s": "秒"}
    return f"{name[:-1]}{units.get(name[-1], name[-1])}" if name and name[-1] in units else name


def _local(value: str | None, tz: ZoneInfo) -> str:
    return shown_time(value, str(tz), empty="")


def _hotlist_summary(ex: dict[str, Any]) -> str:
    ranks = [str(p.get("rank")) for p in ex.get("trajectory") or []][-6:]
    heat = f"，热度 {ex['heat']}" if ex.get("heat") else ""
    path = f"（排名 {'→'.join(ranks)}）" if len(ranks) > 1 else ""
    return f"登上 {ex.get('source_title') or ex.get('source', '')} 热榜第 {ex.get('rank', '?')} 位{heat}{path}"


def _spread_summary(ex: dict[str, Any]) -> str:
    if "event_id" in ex:  # an event's posts together
        return (f"事件 {ex['event_id']} 的 {ex.get('posts', 0)} 帖一小时内转发+评论共新增 "
                f"{ex.get('gained_per_hour', 0)}（{ex.get('from', 0)}→{ex.get('to', 0)}），"
                f"来源 {'、'.join(str(s[0]) for s in ex.get('sources') or [])}")
    return (f"一小时内转发+评论新增 {ex.get('gained_per_hour', 0)}（{ex.get('from', 0)}→{ex.get('to', 0)}），"
            f"来源 {ex.get('source_title') or ex.get('source', '')}")


def _liuyan_summary(ex: dict[str, Any]) -> str:
    since = str(ex.get("since") or "")[:10]
    return f"留言逾期未回复（{ex.get('department') or '未注明'}，{since} 留言）"


SIGNAL_SUMMARIES = {"hotlist": _hotlist_summary, "spread": _spread_summary, "liuyan": _liuyan_summary}


def summary(alert: Alert) -> str:
    """One sentence: what rose, by how much, against what."""
    ex = alert.explanation
    if alert.kind == "source":
        return ex.get("problem") or "数据源异常"
    if alert.kind in SIGNAL_SUMMARIES:
        return SIGNAL_SUMMARIES[alert.kind](ex)
    best = ex.get("best_window") or {}
    if not best:
        return "负面舆情上升"
    return (f"{window_zh(best['window'])}内负面 {best['negative']} 条（占 {best['share']:.0%}），"
            f"常态约 {best['baseline']:.1f} 条")


def _view(alert: Alert, settings: Settings, tz: ZoneInfo) -> dict[str, Any]:
    ex = alert.explanation
    timeline = ex.get("timeline") or []
    escalations = [e for e in timeline if e.get("event") == "escalated"]
    windows = []
    for w in ex.get("windows") or []:
        method = METHOD_NAMES.get(w.get("baseline_method", ""), w.get("baseline_method", ""))
        windows.append({"name": window_zh(w["window"]), "negative": w["negative"], "total": w["total"],
                        "share": f"{w['share']:.0%}", "baseline": f"{w['baseline']:.1f}",
                        "method": method.format(n=w.get("baseline_periods", 0)), "p": f"{w['p_value']:.2g}",
                        "fired": w["fired"]})
    event = ex.get("event")
    return {
        "id": alert.id, "kind_name": KIND_NAMES.get(alert.kind, alert.kind), "title": visible(alert.title),
        "level_name": LEVEL_NAMES.get(alert.level, alert.level), "colour": COLOURS.get(alert.level, "#444"),
        "escalated": bool(escalations) and alert.state == "escalated",
        "from_level": LEVEL_ZH.get(escalations[-1].get("from", ""), "") + "色" if escalations else "",
        "summary": summary(alert), "problem": "",
        "windows": windows,
        "posts": [{"title": visible(p.get("title")) or "(无标题)", "url": visible(p.get("url")),
                   "href": safe_url(p.get("url")), "source": visible(settings.source_title(p.get("source", ""))),
                   "when": _local(p.get("ts"), tz)} for p in ex.get("top_posts") or []],
        "terms": "、".join(visible(t[0]) for t in ex.get("top_terms") or []),
        "sources": "、".join(f"{visible(settings.source_title(s[0]))} {s[1]} 条" for s in ex.get("sources") or []),
        "topics": "、".join(f"{t[0]} {t[1]} 条" for t in ex.get("topics") or []),
        "event": (f"{visible(event.get('title'))}（{'共 {} 条，'.format(event['size']) if event.get('size') else ''}"
                  f"{_local(event.get('first_seen'), tz)} 起）" if event else ""),
        "link": f"{settings.alerts.base_url.rstrip('/')}/alert/{alert.id}",
    }


def subject_for(alerts: list[Alert], settings: Settings) -> str:
    kinds = list(KIND_NAMES)
    top = max(alerts, key=lambda a: (["blue", "yellow", "orange", "red"].index(a.level),
                                     -(kinds.index(a.kind) if a.kind in kinds else 9), -(a.id or 0)))
    tag = "舆情预警·升级" if top.state == "escalated" else "舆情预警"
    # no spaces between Chinese words: RFC 2047 drops the space between two encoded words
    more = f"等{len(alerts)}项" if len(alerts) > 1 else ""
    where = visible(top.title) if top.kind != "locality" else settings.locality.name
    if top.kind not in ("locality", "source"):
        where = f"{settings.locality.name}·{visible(top.title)}"
    return f"【{tag}·{LEVEL_NAMES.get(top.level, top.level)}】{where}{more}：{summary(top)}"


def render_alerts(settings: Settings, alerts: list[Alert], now: datetime) -> tuple[str, str, str]:
    """(subject, html, text) of one message about the alerts opened or escalated in one run."""
    tz = ZoneInfo(settings.digest.timezone)
    kinds = list(KIND_NAMES)
    order = sorted(alerts, key=lambda a: (-["blue", "yellow", "orange", "red"].index(a.level),
                                          kinds.index(a.kind) if a.kind in kinds else 9, a.id or 0))
    views = [_view(a, settings, tz) for a in order]
    shown: set[str] = set()
    for view in views:  # one spike seen as locality + topic + event: quote each post once
        fresh = [p for p in view["posts"] if p["url"] not in shown]
        view["same_posts"] = bool(view["posts"]) and not fresh
        view["posts"] = fresh
        shown.update(p["url"] for p in fresh)
    subject = subject_for(alerts, settings)
    context = {"subject": subject, "locality": settings.locality.name, "alerts": views,
               "now": shown_time(now, settings.digest.timezone)}
    return subject, _HTML_TEMPLATE.render(**context), _TEXT_TEMPLATE.render(**context)
