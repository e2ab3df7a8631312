"""`liuyan` preset: 人民网领导留言板, one board (`fid`), through the site's own list API
(../shared/SOURCES.md §1).

Every call is a POST of `{appCode, token, signature, param}` where `param` is a compact JSON string
and `signature = md5(path + param + md5(appCode)[:16] + token)` — the same request the public
page's script makes for an anonymous reader. Pages follow a cursor (`lastItem` = the last tid) until
fewer than `rows` come back. Each new message's text comes from `/v1/threads/content`, which also
says whether an official reply exists. `SN0006 数据格式错误` (the site rejected the request's
signature) is recorded in words, and so is the web firewall's challenge page (a script that sets
a clearance cookie, or a block page), which stops the run: it is never solved. `url` replaces the
site base.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

from scrapy.http import Request, Response

from yuqing.crawlers.dates import from_timestamp, parse_time
from yuqing.crawlers.spiders.base import BaseSpider
from yuqing.crawlers.spiders.json_api import load_json
from yuqing.crawlers.text import clean_text
from yuqing.errors import BlockedError, SourceError
from yuqing.models import Post

logger = logging.getLogger(__name__)

DEFAULT_BASE = "https://liuyan.people.com.cn"
LIST_PATH = "/v1/threads/list/df"
DETAIL_PATH = "/v1/threads/content"
APP_CODE = "PC42ce3bfa4980a9"  # from the page's SITE_CONFIG; the site may rotate it
ROWS = 10
_ANSWERED_STATES = ("已回复", "已办理", "已答复", "办理完成")


def md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def compact(param: dict[str, Any]) -> str:
    """The param string exactly as the front end writes it: no spaces, keys in the given order."""
    return json.dumps(param, separators=(",", ":"), ensure_ascii=False)


def sign(path: str, param: str, app_code: str = APP_CODE, token: str = "") -> str:
    return md5(path + param + md5(app_code)[:16] + token)


def signed_body(path: str, param: dict[str, Any], app_code: str = APP_CODE, token: str = "") -> str:
    text = compact(param)
    return json.dumps(
        {"appCode": app_code, "token": token, "signature": sign(path, text, app_code, token), "param": text},
        ensure_ascii=False,
    )


def list_param(fid: str, last_item: str = "") -> dict[str, Any]:
    return {"fid": fid, "showUnAnswer": 1, "typeId": 5, "lastItem": last_item, "position": 0, "rows": ROWS,
            "orderType": 2}


def check_answer(data: Any, url: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise SourceError(f"unexpected answer from {url}: not a JSON object")
    code = str(data.get("code", data.get("resultCode", "0")))
    if code == "SN0006":
        raise SourceError(
            f"liuyan refused the request: SN0006 {data.get('msg') or '数据格式错误'} "
            "(the signature was not accepted: the site may have changed its appCode)"
        )
    if code not in ("0", "200", "0000"):
        raise SourceError(f"liuyan answered error {code}: {data.get('msg') or data.get('resultMsg') or 'no message'}")
    return data


# What the site's web firewall (Knownsec's 创宇盾/jiasule, Aliyun, Tencent) sends instead of JSON
_WAF_MARKS = ("__jsl_clearance", "__jsluid", "jsl_", "创宇盾", "知道创宇", "yunaq", "jiasule", "waf",
              "访问被拦截", "访问被阻断", "安全威胁", "aliyun_waf", "errors.aliyun.com", "拦截")
_WAF_STATUSES = (403, 405, 412, 418, 429, 468, 493, 503, 521)


def check_firewall(status: int, body: bytes, url: str) -> None:
    """BlockedError, in words, for a web-firewall challenge or block page where JSON was expected."""
    head = body.lstrip()[:1]
    if head in (b"{", b"[") or not body.strip():
        return
    text = body[:20000].decode("utf-8", errors="replace").lower()
    if any(mark in text for mark in _WAF_MARKS) or (head == b"<" and status in _WAF_STATUSES):
        raise BlockedError(
            f"blocked: web-firewall challenge page (HTTP {status}) from {urlsplit(url).netloc}; the board "
            "answers a browser but not this request now: try again later, or open it in a browser"
        )


def thread_permalink(tid: str) -> str:
    return f"{DEFAULT_BASE}/threads/content?tid={tid}"


def record_to_post(record: dict[str, Any], source: str, now: Any) -> Post | None:
    tid = str(record.get("tid") or "")
    title = clean_text(str(record.get("subject") or record.get("title") or ""))
    if not tid or not title:
        return None
    state = clean_text(str(record.get("stateInfo") or ""))
    when = record.get("createDateline") or record.get("dateline") or record.get("threadsCheckTime")
    extra: dict[str, Any] = {
        "tid": tid,
        "forum": clean_text(str(record.get("forumName") or "")),
        "state": state,
        "answered": bool(record.get("lastAnswerTime")) or any(s in state for s in _ANSWERED_STATES),
    }
    for key, name in (("typeName", "type"), ("domainName", "domain")):
        if record.get(key):
            extra[name] = clean_text(str(record[key]))
    return Post(
        url=thread_permalink(tid),
        source=source,
        title=title,
        text=clean_text(str(record.get("content") or "")),
        author=clean_text(str(record.get("nickName") or "")),
        published_at=from_timestamp(float(str(when))) if str(when or "").isdigit() else parse_time(when, now=now),
        extra=extra,
    )


def apply_detail(post: Post, data: dict[str, Any]) -> Post:
    """Fill a post from `/v1/threads/content`: dataType 1 is the message, 4 an official reply."""
    result = data.get("resultData") or {}
    contents = result.get("contentList") if isinstance(result, dict) else None
    for part in contents or []:
        if not isinstance(part, dict):
            continue
        kind = str(part.get("dataType"))
        if kind == "1" and part.get("content"):
            post.text = clean_text(str(part["content"]))
        elif kind == "4":
            post.extra["answered"] = True
            post.extra["reply"] = clean_text(str(part.get("content") or ""))[:2000]
            if part.get("organization"):
                post.extra["reply_by"] = clean_text(str(part["organization"]))
            reply_at = from_timestamp(float(part["dateline"])) if str(part.get("dateline") or "").isdigit() else None
            if reply_at:
                post.extra["reply_at"] = reply_at.isoformat()
        if part.get("stateInfo"):
            post.extra["state"] = clean_text(str(part["stateInfo"]))
    return post


class LiuyanSpider(BaseSpider):
    source_type = "liuyan"

    @property
    def base(self) -> str:
        return self.source.url.rstrip("/") or DEFAULT_BASE

    def check_response(self, response: Response) -> None:
        check_firewall(response.status, response.body, response.url)
        super().check_response(response)

    def default_headers(self) -> dict[str, str]:
        return {
            "Content-Type": "application/json;charset=UTF-8",
            "Accept": "application/json, text/plain, */*",
            "Origin": self.base,
            "Referer": f"{self.base}/threads/list?fid={self.source.fid}",
            "token": "",
        }

    def list_request(self, last_item: str, page: int) -> Request:
        body = signed_body(LIST_PATH, list_param(self.source.fid, last_item))
        return self.request(self.base + LIST_PATH, "parse_list", method="POST", body=body,
                            meta={"page": page}, dont_filter=True)

    def first_requests(self) -> Iterable[Request]:
        if not self.source.fid:
            raise SourceError("a liuyan source needs `fid`, the board id from the site's URL (…/threads/list?fid=539)")
        yield self.list_request("", 1)

    def parse_list(self, response: Response) -> Iterator[Any]:
        data = check_answer(load_json(response), response.url)
        result = data.get("resultData") or data.get("data") or {}
        records = result.get("data") if isinstance(result, dict) else result
        if not isinstance(records, list):
            raise SourceError(f"no message list (resultData.data) in the answer from {response.url}")
        posts = [p for p in (record_to_post(r, self.source.name, self.now) for r in records if isinstance(r, dict)) if p]
        with_text = [p for p in posts if p.text]
        yield from with_text  # the search API already carries the text
        yield from self.follow_details([p for p in posts if not p.text], "parse_detail", self.detail_request)
        page = response.meta.get("page", 1)
        if len(records) >= ROWS and page < self.max_pages and isinstance(records[-1], dict) and records[-1].get("tid"):
            yield self.list_request(str(records[-1]["tid"]), page + 1)

    def detail_request(self, post: Post) -> Request:
        body = signed_body(DETAIL_PATH, {"tid": post.extra["tid"], "fromTrash": 0})
        return self.request(self.base + DETAIL_PATH, "parse_detail", method="POST", body=body, fatal=False,
                            dont_filter=True)

    def refresh_request(self, url: str) -> Request | None:
        """A stored message's content again: whether and when a department has replied."""
        from urllib.parse import parse_qs, urlsplit

        tid = (parse_qs(urlsplit(url).query).get("tid") or [""])[0]
        if not tid:
            return None
        post = Post(url=url, source=self.source.name, extra={"tid": tid})
        req = self.detail_request(post)
        req.meta["post"] = post
        return req

    def parse_detail(self, response: Response) -> Iterator[Post]:
        post: Post = response.meta["post"]
        # a re-visit starts from the tid alone: `answered` appears only when a reply is there, so
        # a re-read that finds none leaves the stored state as it was
        yield apply_detail(post, check_answer(load_json(response), response.url))
