"""留言 on loopback, the board's own API shape: a reply between two runs moves the message to 已回复, one
unanswered past `[liuyan] overdue` opens one 蓝 case, and the digest's 留言办理 says both.

Each step (crawl child, detect, digest) opens the store afresh, so every step is also a restart.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from zoneinfo import ZoneInfo

from tests.conftest import Response
from tests.signals.conftest import crawl, detect, rows
from yuqing.models import utcnow
from yuqing.store import Store

SOURCE = """
[[sources]]
name = "leader-board"
title = "领导留言板"
type = "liuyan"
fid = "539"
url = "{url}"
refresh = "30d"
delay = "0s"
"""

JSON = "application/json; charset=utf-8"
PERMALINK = "https://liuyan.people.com.cn/threads/content?tid={tid}"


class Board:
    """人民网领导留言板's two API calls on a LocalSite: the list (POST /v1/threads/list/df) and one
    message's content with its official reply, if any (POST /v1/threads/content)."""

    def __init__(self, site, now: float) -> None:
        self.messages = {
            "501": {"subject": "芦山县龙门乡路灯坏了一个月", "created": int(now - 9 * 86400), "reply": None},
            "502": {"subject": "芦山县城区夜间施工噪音扰民", "created": int(now - 3600), "reply": None},
        }
        site.routes["/v1/threads/list/df"] = self.listing
        site.routes["/v1/threads/content"] = self.content

    def answer(self, tid: str) -> None:
        self.messages[tid]["reply"] = int(time.time())

    def listing(self, path, headers, body):
        records = [{"tid": int(tid), "subject": m["subject"], "forumName": "芦山县委书记", "nickName": "网友",
                    "createDateline": m["created"], "stateInfo": "已回复" if m["reply"] else "未回复",
                    "lastAnswerTime": m["reply"] or 0} for tid, m in self.messages.items()]
        return Response(json.dumps({"code": 0, "resultData": {"data": records}}, ensure_ascii=False),
                        content_type=JSON)

    def content(self, path, headers, body):
        tid = json.loads(json.loads(body)["param"])["tid"]
        m = self.messages[str(tid)]
        parts = [{"dataType": 1, "content": f"<p>{m['subject']}，请尽快处理。</p>", "dateline": m["created"],
                  "stateInfo": "已回复" if m["reply"] else "未回复"}]
        if m["reply"]:
            parts.append({"dataType": 4, "content": "<p>您好，已责成施工单位夜间停工。</p>",
                          "organization": "芦山县住房和城乡建设局", "dateline": m["reply"]})
        return Response(json.dumps({"code": 0, "resultData": {"contentList": parts}}, ensure_ascii=False),
                        content_type=JSON)


def test_reply_between_runs_is_answered_and_one_overdue_message_opens_one_blue_case(site, configure) -> None:
    board = Board(site, time.time())
    settings = configure(SOURCE.format(url=site.url))

    stats = crawl(settings, "leader-board")
    assert stats.new == 2
    opened = detect(settings)
    old_id = rows(settings, "SELECT id FROM posts WHERE url = ?", [PERMALINK.format(tid=501)])[0]["id"]
    assert [(a.kind, a.key, a.level) for a in opened] == [("liuyan", f"post:{old_id}", "blue")]
    assert [(c["level"], c["state"]) for c in rows(settings, "SELECT level, state FROM cases")] == [("blue", "待研判")]

    board.answer("502")  # the department answers between the two runs
    crawl(settings, "leader-board")
    fresh = rows(settings, "SELECT json_extract(extra, '$.state') AS state, json_extract(extra, '$.answered') AS answered,"
                           " json_extract(extra, '$.reply_by') AS by FROM posts WHERE url = ?",
                 [PERMALINK.format(tid=502)])
    assert fresh == [{"state": "已回复", "answered": 1, "by": "芦山县住房和城乡建设局"}]
    assert detect(settings) == []  # the overdue one was told once; the answered one was never late
    assert detect(settings, utcnow() + timedelta(hours=1)) == []
    assert rows(settings, "SELECT count(*) AS n FROM alerts")[0]["n"] == 1
    assert rows(settings, "SELECT count(*) AS n FROM cases")[0]["n"] == 1
    assert rows(settings, "SELECT count(*) AS n FROM deliveries WHERE kind = 'alert'")[0]["n"] == 1

    from yuqing.digest import sections
    from yuqing.digest.builder import build_digest

    with Store(settings.db_path) as store:
        got = sections.liuyan(settings, store, utcnow() - timedelta(days=2), utcnow() + timedelta(hours=1), utcnow())
        assert got is not None
        assert (got["new"], got["answered"], got["overdue"]) == (1, 1, 1)
        assert [(r["id"], r["days"], r["department"]) for r in got["oldest"]] == [(old_id, 9, "芦山县委书记")]
        by = {d["name"]: d for d in got["departments"]}
        assert by["芦山县住房和城乡建设局"]["answered"] == 1 and by["芦山县委书记"]["overdue"] == 1
        today = utcnow().astimezone(ZoneInfo(settings.digest.timezone)).date()
        page = build_digest(settings, store, today, send=False).read_text(encoding="utf-8")
        text = store.query("SELECT text FROM digests")[0]["text"]
    assert "<h2>留言办理</h2>" in page and "芦山县龙门乡路灯坏了一个月" in page
    assert f'href="{PERMALINK.format(tid=501)}"' in page and "已等待 <b" in page
    assert "【留言办理】" in text and "芦山县龙门乡路灯坏了一个月 —— 已等待 9 天，芦山县委书记" in text

    board.answer("501")  # answered at last: its alert ends
    crawl(settings, "leader-board")
    assert [(a.kind, a.state) for a in detect(settings)] == [("liuyan", "resolved")]
