"""The messages of a case: the alert (one per case and level), the assignment and the overdue notice.

Each is queued through the delivery outbox inside the caller's transaction, with a ref that names
the case and what the message is about (`case7:red`, `case7:assign:<unit hash>:<due>`,
`case7:overdue:respond:<due>`), so queueing it twice keeps one row and one send.
Subjects say what a message is: 【舆情预警·…】, 【舆情交办】, 【舆情超期】.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import jinja2

from yuqing.alerts import message
from yuqing.cases import model
from yuqing.delivery import outbox
from yuqing.delivery.channels import default_targets
from yuqing.localtime import shown
from yuqing.models import Alert
from yuqing.settings import Settings
from yuqing.store import Store

_HTML = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
_TEXT = jinja2.Environment(autoescape=False, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)

CASE_HEAD_HTML = _HTML.from_string(
    '<div style="border:1px solid #ccc;padding:8px 12px;margin:0 0 12px;font-family:sans-serif">'
    '<b>舆情案件 #{{ c.id }}</b> · 状态：<b class="case-state">{{ c.state }}</b> · 等级：{{ level }}'
    '<br>{{ c.title }}<br>本案共 {{ n }} 项预警（{{ windows }}），合并为一封邮件。'
    '<br><a href="{{ link }}">在系统中研判、交办（案件 #{{ c.id }}）</a></div>')
CASE_HEAD_TEXT = _TEXT.from_string(
    "舆情案件 #{{ c.id }} · 状态：{{ c.state }} · 等级：{{ level }}\n{{ c.title }}\n"
    "本案共 {{ n }} 项预警（{{ windows }}），合并为一封邮件。\n研判、交办：{{ link }}\n\n")

TASK_TEXT = """{{ heading }}
案件 #{{ c.id }}：{{ c.title }}
等级：{{ level }} · 状态：{{ c.state }}{% if c.verdict %} · 研判：{{ c.verdict }}{% endif %}
承办单位：{{ c.unit or "（未交办）" }}
首次回应时限：{{ respond_due }}
办结时限：{{ close_due }}
{% if overdue %}已超期：{{ overdue }}
{% endif %}{% if note %}说明：{{ note }}
{% endif %}{% for p in c.posts %}代表帖子：{{ p.title }}
   {{ p.url }}
{% endfor %}案件页面：{{ link }}
-- yuqing 舆情监测自动发送
"""
TASK_HTML = """<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{{ subject }}</title></head>
<body style="font-family:'Microsoft YaHei',sans-serif;font-size:14px;color:#222;max-width:760px">
<h2>{{ heading }}</h2>
<p>案件 #{{ c.id }}：<b>{{ c.title }}</b></p>
<p>等级：{{ level }} · 状态：<b class="case-state">{{ c.state }}</b>{% if c.verdict %} · 研判：{{ c.verdict }}{% endif %}</p>
<p>承办单位：{{ c.unit or "（未交办）" }}<br>首次回应时限：{{ respond_due }}<br>办结时限：{{ close_due }}</p>
{% if overdue %}<p style="color:#c8102e"><b>已超期：{{ overdue }}</b></p>{% endif %}
{% if note %}<p>说明：{{ note }}</p>{% endif %}
{% if c.posts %}<p>代表帖子：</p><ol>{% for p in c.posts %}<li><a href="{{ p.url|safe_link }}">{{ p.title }}</a></li>{% endfor %}</ol>{% endif %}
<p><a href="{{ link }}">打开案件页面</a></p>
<p style="color:#888;font-size:12px">本邮件由 yuqing 舆情监测自动发送。</p></body></html>
"""


def _safe_link(url: Any) -> str:
    text = str(url or "")
    return text if text.startswith(("http://", "https://")) else "#"


_HTML.filters["safe_link"] = _safe_link
_TASK_HTML = _HTML.from_string(TASK_HTML)
_TASK_TEXT = _TEXT.from_string(TASK_TEXT)


def link(settings: Settings, case_id: int) -> str:
    return f"{settings.alerts.base_url.rstrip('/')}/case/{case_id}"


def local(settings: Settings, value: str | None) -> str:
    return shown(value, settings.digest.timezone)


def fired_windows(alerts: list[Alert]) -> str:
    names = []
    for a in alerts:
        fired = [message.window_zh(w["window"]) for w in a.explanation.get("windows") or [] if w.get("fired")]
        names.append(f"{message.KIND_NAMES.get(a.kind, a.kind)}{'/'.join(fired) if fired else ''}")
    return "、".join(names)


def queue_alert(settings: Settings, store: Store, case: dict[str, Any], alerts: list[Alert], now: datetime) -> None:
    """One message for the case at its level, listing every alert (and window) that fired."""
    subject, html, text = message.render_alerts(settings, alerts, now)
    ctx = {"c": case, "level": model.level_name(case["level"]), "n": len(alerts), "windows": fired_windows(alerts),
           "link": link(settings, case["id"])}
    head_html = CASE_HEAD_HTML.render(**ctx)
    marker = html.find(">", html.find("<body")) + 1
    html = html[:marker] + head_html + html[marker:]
    text = CASE_HEAD_TEXT.render(**ctx) + text
    # the alert ids in the ref keep `yuqing alerts show N` finding the message of alert N
    ref = f"case{case['id']}:{case['level']}," + ",".join(f"{a.id}:{a.level}" for a in alerts)
    outbox.enqueue_rows(store, settings, kind="alert", ref=ref, subject=subject,
                        html=html, text=text)


def unit_urls(settings: Settings, unit: str) -> tuple[str, ...]:
    """The unit's notify entries: apprise URLs and [[alerts.channels]] names (outbox.enqueue_rows resolves both)."""
    for u in settings.units:
        if u.name == unit:
            return u.notify
    return ()


def _task(settings: Settings, case: dict[str, Any], subject: str, heading: str, note: str,
          overdue: str = "") -> tuple[str, str]:
    ctx = {"subject": subject, "heading": heading, "c": case, "level": model.level_name(case["level"]),
           "respond_due": local(settings, case.get("respond_due")), "close_due": local(settings, case.get("close_due")),
           "note": note, "overdue": overdue, "link": link(settings, case["id"])}
    return _TASK_HTML.render(**ctx), _TASK_TEXT.render(**ctx)


def _ascii(name: str) -> str:
    """Refs end up in Message-IDs, which must be ASCII: a unit is named by a hash of its name."""
    return hashlib.sha1(name.encode("utf-8")).hexdigest()[:8]


def queue_assignment(settings: Settings, store: Store, case: dict[str, Any], note: str) -> None:
    subject = f"【舆情交办】{case['unit']}：案件#{case['id']} {case['title'][:40]}（{local(settings, case['respond_due'])}前首次回应）"
    html, text = _task(settings, case, subject, f"舆情交办 · {case['unit']}", note)
    outbox.enqueue_rows(store, settings, kind="case", ref=f"case{case['id']}:assign:{_ascii(case['unit'])}:{case['respond_due']}",
                        subject=subject, html=html, text=text, urls=unit_urls(settings, case["unit"]) or None)


def queue_overdue(settings: Settings, store: Store, case: dict[str, Any], which: str) -> None:
    """`which` is respond or close; to the unit and to [cases] escalate_to (default: every [alerts]
    channel). Entries are apprise URLs or [[alerts.channels]] names."""
    what = "首次回应" if which == "respond" else "办结"
    due = case[f"{which}_due"]
    subject = f"【舆情超期】案件#{case['id']} {what}已超期：{case['title'][:40]}（{case['unit'] or '未交办'}）"
    html, text = _task(settings, case, subject, f"舆情超期 · {what}", "", overdue=f"{what}时限 {local(settings, due)}")
    unit = unit_urls(settings, case["unit"] or "")
    escalate = settings.cases.escalate_to or default_targets(settings)
    urls = list(dict.fromkeys([*unit, *escalate]))
    outbox.enqueue_rows(store, settings, kind="case", ref=f"case{case['id']}:overdue:{which}:{due}",
                        subject=subject, html=html, text=text, urls=urls or None)


def queue_opened(settings: Settings, store: Store, case: dict[str, Any], note: str, now: datetime) -> None:
    """A case opened by hand or by a watch term: the same one message per case and level."""
    how = "关注词命中" if case["origin"] == "watch" else "人工立案"
    subject = (f"【舆情预警·{model.level_name(case['level'])}】{settings.locality.name}·{how}："
               f"{case['title'][:40]}")
    html, text = _task(settings, case, subject, f"舆情预警 · {how} · 案件 #{case['id']}", note)
    outbox.enqueue_rows(store, settings, kind="alert", ref=f"case{case['id']}:{case['level']},", subject=subject,
                        html=html, text=text)
