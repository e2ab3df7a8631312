"""The weibo, tieba and liuyan presets on saved answers, plus the real m.weibo.cn capture."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone

import pytest
from scrapy.exceptions import CloseSpider

from tests.conftest import shared_file
from tests.crawlers.conftest import make_spider, page, respond, run
from yuqing.crawlers.spiders import liuyan, tieba, weibo

JSON = "application/json; charset=utf-8"


# -- weibo ---------------------------------------------------------------------------------------
def test_weibo_default_url_and_override():
    spider = make_spider({"type": "weibo", "keyword": "芦山"})
    assert spider.api_url(1) == ("https://m.weibo.cn/api/container/getIndex?containerid="
                                 "100103type%3D61%26q%3D%E8%8A%A6%E5%B1%B1%26t%3D0&page_type=searchall")
    assert spider.api_url(2).endswith("&page=2")
    local = make_spider({"type": "weibo", "url": "http://127.0.0.1:9999"})  # keyword defaults to the locality
    assert local.api_url(1).startswith("http://127.0.0.1:9999/api/container/getIndex?containerid=100103type%3D61%26q%3D%E8%8A%A6%E5%B1%B1%E5%8E%BF")
    full = make_spider({"type": "weibo", "url": "http://127.0.0.1:9999/api/container/getIndex?containerid=1076031669879400"})
    assert full.api_url(3) == "http://127.0.0.1:9999/api/container/getIndex?containerid=1076031669879400&page=3"


def test_weibo_cards_and_card_groups():
    spider = make_spider({"type": "weibo", "keyword": "芦山", "max_pages": 3})
    url = spider.api_url(1)
    posts, requests = run(spider, respond(spider, url, page("weibo_getindex.json"), parser="parse_index",
                                          content_type=JSON, meta={"page": 1}))
    assert len(posts) == 3
    long_post, repost, plain = posts
    assert long_post.text == "芦山县龙门乡今天停水了[哭] #停水# 已经三个小时了，什么时候恢复？"  # longText wins
    assert long_post.url == "https://weibo.com/1234567/O1a2B3c4D"
    assert long_post.author == "芦山小王"
    assert (long_post.reposts, long_post.comments, long_post.likes) == (12, 34, 56)
    assert long_post.published_at == datetime(2024, 6, 15, 3, 55, tzinfo=timezone.utc)  # 5分钟前
    assert long_post.extra["mid"] == "5012345678901234" and long_post.extra["region"] == "发布于 四川"
    assert repost.text == "转发微博\n//原微博: 芦山大桥今晚封闭施工"  # the original's user was deleted
    assert repost.extra["retweeted"]["mid"] == "5012345678800000"
    assert repost.published_at == datetime(2024, 6, 14, 4, 0, tzinfo=timezone.utc)  # 昨天 12:00
    assert plain.published_at == datetime(2022, 10, 19, 15, 44, 36, tzinfo=timezone.utc)
    assert [r.meta["page"] for r in requests] == [2]


def test_weibo_text_html_is_cleaned_when_no_long_text():
    post = weibo.mblog_to_post(
        {"id": "1", "text": '芦山<span class="url-icon"><img alt=[哭] src="x"></span> <a href="/s"><span class="surl-text">#停水#</span></a> ...<a href="/status/1">全文</a>',  # noqa: E501 - m.weibo.cn's own markup, verbatim
         "user": {"id": 2, "screen_name": "u"}, "bid": "B"}, "s", None)
    assert post.text == "芦山[哭] #停水#"


def test_weibo_no_more_results_stops_quietly():
    spider = make_spider({"type": "weibo", "keyword": "芦山"})
    posts, requests = run(spider, respond(spider, spider.api_url(2), page("weibo_no_more.json"), parser="parse_index",
                                          content_type=JSON, meta={"page": 2}))
    assert posts == [] and requests == [] and spider.crawl_stats.error is None


def test_weibo_expired_cookie_stops_the_run_in_words():
    spider = make_spider({"type": "weibo", "keyword": "芦山", "cookies": "SUB=expired"})
    with pytest.raises(CloseSpider):
        run(spider, respond(spider, spider.api_url(1), page("weibo_login_required.json"), parser="parse_index",
                            content_type=JSON))
    assert spider.blocked
    assert spider.crawl_stats.error == "login required: cookie expired? (m.weibo.cn answered ok:-100, 请先登录)"


def test_weibo_http_432_is_risk_control():
    spider = make_spider({"type": "weibo", "keyword": "芦山"})
    with pytest.raises(CloseSpider):
        run(spider, respond(spider, spider.api_url(1), "", parser="parse_index", status=432, content_type=JSON))
    assert spider.crawl_stats.error == "blocked: risk control (HTTP 432 from m.weibo.cn)"


def test_weibo_cookie_and_headers_go_on_the_request():
    spider = make_spider({"type": "weibo", "keyword": "芦山", "cookies": "SUB=abc; SUBP=def", "proxy": "http://10.0.0.1:3128",
                          "headers": {"X-Extra": "1"}})
    req = next(iter(spider.first_requests()))
    assert req.cookies == {"SUB": "abc", "SUBP": "def"}
    assert req.meta["proxy"] == "http://10.0.0.1:3128"
    assert req.headers["MWeibo-Pwa"] == b"1" and req.headers["X-Extra"] == b"1"


def test_real_mweibo_capture():
    data = json.loads(shared_file("pages/mweibo_getindex_cards.json").read_bytes())
    posts = [weibo.mblog_to_post(m, "s", datetime(2019, 6, 20, tzinfo=timezone.utc)) for m in weibo.iter_mblogs(data["data"]["cards"])]
    assert len(posts) == 10
    first = posts[0]
    assert first.text.startswith("搬完这块砖，就可以吃好吃的了[偷笑]")
    assert "<span" not in first.text and "<img" not in first.text
    assert (first.reposts, first.comments, first.likes) == (240492, 95535, 348872)
    assert first.published_at == datetime(2019, 6, 13, 16, 0, tzinfo=timezone.utc)  # "06-14" in +08
    assert first.url == "https://weibo.com/1669879400/HyTZc60ew"


# -- tieba ---------------------------------------------------------------------------------------
def test_tieba_urls():
    forum = make_spider({"type": "tieba", "forum": "芦山"})
    assert forum.page_url(1) == "https://tieba.baidu.com/f?kw=%E8%8A%A6%E5%B1%B1&ie=utf-8"
    assert forum.page_url(3).endswith("&pn=100")
    search = make_spider({"type": "tieba", "keyword": "芦山", "url": "http://127.0.0.1:9999"})
    assert search.page_url(2).startswith("http://127.0.0.1:9999/f/search/res?ie=utf-8&qw=%E8%8A%A6%E5%B1%B1")
    assert search.page_url(2).endswith("&pn=2")


def test_tieba_forum_list_inside_html_comment():
    spider = make_spider({"type": "tieba", "forum": "芦山"})
    url = spider.page_url(1)
    posts, requests = run(spider, respond(spider, url, page("tieba_forum.html"), parser="parse_page", meta={"page": 1}))
    assert [p.title for p in posts] == ["芦山县城哪里可以修手机", "龙门乡的樱桃熟了"]
    first, second = posts
    assert first.url == "https://tieba.baidu.com/p/8901234567"
    assert first.author == "芦山吧友"
    assert first.text == "手机屏幕碎了，县城里有靠谱的维修店吗？"
    assert first.comments == 25
    assert first.published_at == datetime(2024, 6, 13, 16, 0, tzinfo=timezone.utc)  # "6-14"
    assert first.extra == {"tid": "8901234567", "forum": "芦山吧", "last_reply": "10:05"}
    assert second.published_at == datetime(2023, 10, 31, 16, 0, tzinfo=timezone.utc)  # "2023-11"
    assert second.extra["images"] == ["http://imgsrc.baidu.com/x.jpg"]
    assert [r.url for r in requests] == [spider.page_url(2)]


def test_tieba_search_page_in_gbk():
    spider = make_spider({"type": "tieba", "keyword": "芦山"})
    url = spider.page_url(1)
    posts, _ = run(spider, respond(spider, url, page("tieba_search_gbk.html"), parser="parse_page",
                                   content_type="text/html"))
    assert [p.title for p in posts] == ["芦山停电什么时候恢复", "飞仙关隧道事故"]
    assert posts[0].url == "https://tieba.baidu.com/p/7001"
    assert posts[0].text == "芦山县城北片区停电两小时了，有人知道原因吗"
    assert posts[0].author == "路人甲" and posts[0].extra["forum"] == "芦山"
    assert posts[0].published_at == datetime(2024, 6, 14, 11, 20, tzinfo=timezone.utc)


def test_tieba_captcha_page_stops_the_run():
    spider = make_spider({"type": "tieba", "forum": "芦山"})
    url = spider.page_url(1)
    with pytest.raises(CloseSpider):
        run(spider, respond(spider, url, page("tieba_captcha.html"), parser="parse_page"))
    assert spider.crawl_stats.error == f"blocked: captcha page (百度安全验证) at {url}"


def test_tieba_page_without_thread_list_is_an_error():
    spider = make_spider({"type": "tieba", "forum": "不存在"})
    url = spider.page_url(1)
    run(spider, respond(spider, url, "<html><body><p>抱歉，该吧不存在</p></body></html>", parser="parse_page"))
    assert spider.crawl_stats.error == f"no thread list on {url} (no such forum, or the page layout changed)"


# -- liuyan --------------------------------------------------------------------------------------
def test_liuyan_signature_matches_the_front_end():
    assert hashlib.md5(liuyan.APP_CODE.encode()).hexdigest()[:16] == "a2eb17f65d6f4b3f"
    param = liuyan.compact(liuyan.list_param("539"))
    assert param == '{"fid":"539","showUnAnswer":1,"typeId":5,"lastItem":"","position":0,"rows":10,"orderType":2}'
    expected = hashlib.md5(("/v1/threads/list/df" + param + "a2eb17f65d6f4b3f").encode()).hexdigest()
    body = json.loads(liuyan.signed_body("/v1/threads/list/df", liuyan.list_param("539")))
    assert body == {"appCode": "PC42ce3bfa4980a9", "token": "", "signature": expected, "param": param}


def test_liuyan_list_then_detail():
    spider = make_spider({"type": "liuyan", "fid": "539", "url": "http://127.0.0.1:9999"})
    (first_req,) = list(spider.first_requests())
    assert first_req.url == "http://127.0.0.1:9999/v1/threads/list/df" and first_req.method == "POST"
    assert json.loads(first_req.body)["param"].startswith('{"fid":"539"')
    resp = respond(spider, first_req.url, page("liuyan_list.json"), parser="parse_list", content_type=JSON,
                   meta={"page": 1}, method="POST")
    posts, requests = run(spider, resp)
    assert posts == []
    assert len(requests) == 2  # one detail per message; fewer than `rows` came back: no next page
    assert json.loads(json.loads(requests[0].body)["param"]) == {"tid": "19001", "fromTrash": 0}
    listed = requests[0].meta["post"]
    assert listed.title == "芦山县龙门乡道路破损严重"
    assert listed.extra == {"tid": "19001", "forum": "四川省委书记", "state": "已回复", "answered": True}
    assert requests[1].meta["post"].extra["answered"] is False
    detail = respond(spider, requests[0].url, page("liuyan_detail.json"), parser="parse_detail", content_type=JSON,
                     meta=requests[0].meta, method="POST")
    (post,) = run(spider, detail)[0]
    assert post.url == "https://liuyan.people.com.cn/threads/content?tid=19001"
    assert post.text == "龙门乡到县城的道路坑洼很多，雨天积水。"
    assert post.extra["reply"] == "您好，县交通局已安排修补。" and post.extra["reply_by"] == "芦山县交通运输局"
    assert post.published_at == datetime(2024, 6, 14, 2, 0, tzinfo=timezone.utc)


def test_liuyan_cursor_paging():
    spider = make_spider({"type": "liuyan", "fid": "539"})
    records = [{"tid": 100 + i, "subject": f"芦山留言{i}", "content": "正文"} for i in range(10)]
    body = json.dumps({"code": 0, "resultData": {"data": records}}, ensure_ascii=False)
    posts, requests = run(spider, respond(spider, spider.base + liuyan.LIST_PATH, body, parser="parse_list",
                                          content_type=JSON, meta={"page": 1}, method="POST"))
    assert len(posts) == 10  # the text came with the list: no detail requests
    (nxt,) = requests
    assert json.loads(json.loads(nxt.body)["param"])["lastItem"] == "109"


def test_liuyan_sn0006_is_an_error_in_words():
    spider = make_spider({"type": "liuyan", "fid": "539"})
    posts, requests = run(spider, respond(spider, spider.base + liuyan.LIST_PATH, page("liuyan_sn0006.json"),
                                          parser="parse_list", content_type=JSON, method="POST"))
    assert posts == [] and requests == []
    assert spider.crawl_stats.error == ("liuyan refused the request: SN0006 数据格式错误 (the signature was not "
                                        "accepted: the site may have changed its appCode)")


def test_liuyan_without_fid_is_an_error_in_words():
    spider = make_spider({"type": "liuyan"})
    assert list(spider.start_requests()) == []
    assert "needs `fid`" in spider.crawl_stats.error


# -- tieba today: search without results or marker, forum through the signed client API ----------
def test_tieba_search_page_without_posts_or_no_results_words_is_an_error_in_words():
    spider = make_spider({"type": "tieba", "keyword": "芦山"})
    url = spider.page_url(1)
    shell = '<html><head><title>百度贴吧</title></head><body><div id="app"></div><script src="/app.js"></script></body></html>'
    posts, requests = run(spider, respond(spider, url, shell, parser="parse_page", meta={"page": 1}))
    assert posts == [] and requests == []
    assert spider.crawl_stats.error.startswith(f"no posts on {url} and no \"no results\" words either: "
                                               "the layout changed or a cookie is needed")


def test_tieba_search_that_says_no_results_is_an_empty_run():
    spider = make_spider({"type": "tieba", "keyword": "芦山不存在的词"})
    url = spider.page_url(1)
    body = '<html><body><div class="s_main"><p>抱歉，没有找到与“芦山不存在的词”相关的结果。</p></div></body></html>'
    posts, _ = run(spider, respond(spider, url, body.encode("gbk"), parser="parse_page", meta={"page": 1},
                                   content_type="text/html"))
    assert posts == [] and spider.crawl_stats.error is None
    # past the last page an empty page just ends the paging
    later = make_spider({"type": "tieba", "keyword": "芦山"})
    run(later, respond(later, later.page_url(3), "<html><body></body></html>", parser="parse_page", meta={"page": 3}))
    assert later.crawl_stats.error is None


def test_tieba_forum_without_bduss_says_it_needs_the_users_cookie():
    spider = make_spider({"type": "tieba", "forum": "芦山"})
    assert list(spider.start_requests()) == []
    assert spider.crawl_stats.error == tieba.NEEDS_BDUSS
    assert "BDUSS" in spider.crawl_stats.error and "/baidu/tieba/forum" in spider.crawl_stats.error
    other = make_spider({"type": "tieba", "forum": "芦山", "cookies": "BAIDUID=x; STOKEN=y"})
    assert list(other.start_requests()) == [] and other.crawl_stats.error == tieba.NEEDS_BDUSS


def test_tieba_forum_client_api_request_is_signed_with_the_users_bduss():
    from urllib.parse import parse_qsl

    spider = make_spider({"type": "tieba", "forum": "芦山", "cookies": "BDUSS=abc~def; BAIDUID=x"})
    (req,) = list(spider.start_requests())
    assert req.method == "POST" and req.url == "https://tieba.baidu.com/c/f/frs/page"
    form = dict(parse_qsl(req.body.decode()))
    assert form["BDUSS"] == "abc~def" and form["kw"] == "芦山" and form["pn"] == "1" and form["_client_type"] == "2"
    unsigned = {k: v for k, v in form.items() if k != "sign"}
    joined = "".join(f"{k}={unsigned[k]}" for k in sorted(unsigned)) + "tiebaclient!!!"
    assert form["sign"] == hashlib.md5(joined.encode()).hexdigest().upper()


CLIENT_ANSWER = {
    "error_code": "0",
    "thread_list": [
        {"id": "9001", "tid": "9001", "title": "芦山县城停电了吗", "create_time": "1718330400", "author_id": "7",
         "reply_num": "12", "abstract": [{"type": "0", "text": "城北一带停电一小时"}]},
        {"tid": "9002", "title": "龙门乡樱桃", "create_time": "1718244000", "author_id": "8",
         "first_post_content": [{"type": 0, "text": "樱桃熟了，"}, {"type": 3, "origin_src": "http://imgsrc.baidu.com/a.jpg"},
                                {"type": 0, "text": "欢迎来摘"}]},
    ],
    "user_list": [{"id": "7", "name": "u7", "name_show": "芦山吧友"}, {"id": 8, "name": "u8"}],
}


def test_tieba_forum_client_api_answer_becomes_posts():
    spider = make_spider({"type": "tieba", "forum": "芦山", "cookies": "BDUSS=abc"})
    (req,) = list(spider.start_requests())
    posts, requests = run(spider, respond(spider, req.url, json.dumps(CLIENT_ANSWER, ensure_ascii=False),
                                          parser="parse_client", content_type=JSON, meta={"page": 1}, method="POST"))
    first, second = posts
    assert (first.url, first.title, first.text, first.author, first.comments) == (
        "https://tieba.baidu.com/p/9001", "芦山县城停电了吗", "城北一带停电一小时", "芦山吧友", 12)
    assert first.published_at == datetime(2024, 6, 14, 2, 0, tzinfo=timezone.utc)
    assert second.text == "樱桃熟了，欢迎来摘" and second.author == "u8"
    assert second.extra == {"tid": "9002", "forum": "芦山吧", "images": ["http://imgsrc.baidu.com/a.jpg"]}
    (nxt,) = requests
    assert "pn=2" in nxt.body.decode()


@pytest.mark.parametrize("answer, error", [
    ({"error_code": "0", "thread_list": []},
     "Tieba's client API returned no threads for 芦山吧: the BDUSS cookie has expired? (or the forum does not exist)"),
    ({"error_code": "1", "error_msg": "用户未登录或登录失败"},
     "login required: cookie expired? (Tieba's client API answered 1 用户未登录或登录失败)"),
    ({"error_code": "340001", "error_msg": "参数错误"}, "Tieba's client API answered error 340001: 参数错误"),
])
def test_tieba_client_api_refusals_in_words(answer, error):
    spider = make_spider({"type": "tieba", "forum": "芦山", "cookies": "BDUSS=abc"})
    (req,) = list(spider.start_requests())
    try:
        run(spider, respond(spider, req.url, json.dumps(answer, ensure_ascii=False), parser="parse_client",
                            content_type=JSON, meta={"page": 1}, method="POST"))
    except CloseSpider:
        assert spider.blocked
    assert spider.crawl_stats.error == error


# -- weibo: which login problem; cut posts get their long text -----------------------------------
def test_weibo_login_required_without_a_cookie_says_none_was_set():
    spider = make_spider({"type": "weibo", "keyword": "芦山"})
    with pytest.raises(CloseSpider):
        run(spider, respond(spider, spider.api_url(1), page("weibo_login_required.json"), parser="parse_index",
                            content_type=JSON))
    error = spider.crawl_stats.error
    assert error.startswith("login required: no cookie is set (m.weibo.cn answered ok:-100, 请先登录)")
    assert "expired" not in error and "`cookies`" in error
    html = make_spider({"type": "weibo", "keyword": "芦山"})
    with pytest.raises(CloseSpider):
        run(html, respond(html, html.api_url(1), "<html>登录</html>", parser="parse_index"))
    assert html.crawl_stats.error.startswith("login required: no cookie is set (")


CUT = "芦山县龙门乡停水已经三天了，" * 12  # 168 characters shown of a longer post
FULL = CUT + "居民只能去河边挑水，希望有关部门尽快解决。" * 10


def cut_answer() -> str:
    mblogs = [
        {"id": "5000000000000001", "mid": "5000000000000001", "bid": "Cut1", "isLongText": True,
         "text": CUT + '...<a href="/status/5000000000000001">全文</a>', "user": {"id": 9, "screen_name": "芦山人"},
         "created_at": "Fri Jun 14 10:00:00 +0800 2024"},
        {"id": "5000000000000002", "bid": "Whole", "text": "芦山今天天气晴", "user": {"id": 9, "screen_name": "芦山人"}},
    ]
    return json.dumps({"ok": 1, "data": {"cards": [{"card_type": 9, "mblog": m} for m in mblogs]}}, ensure_ascii=False)


def test_weibo_cut_post_fetches_its_long_text_as_a_detail_request():
    spider = make_spider({"type": "weibo", "keyword": "芦山", "url": "http://127.0.0.1:9999", "max_pages": 1})
    posts, requests = run(spider, respond(spider, spider.api_url(1), cut_answer(), parser="parse_index",
                                          content_type=JSON, meta={"page": 1}))
    assert [p.text for p in posts] == ["芦山今天天气晴"]
    (detail,) = requests
    assert detail.url == "http://127.0.0.1:9999/statuses/extend?id=5000000000000001"
    assert detail.meta["fatal"] is False
    answer = json.dumps({"ok": 1, "data": {"longTextContent": FULL}}, ensure_ascii=False)
    (full,) = run(spider, respond(spider, detail.url, answer, parser="parse_long_text", content_type=JSON,
                                  meta=detail.meta))[0]
    assert full.text == FULL and len(full.text) > 300
    assert full.url == "https://weibo.com/9/Cut1" and full.author == "芦山人"


@pytest.mark.parametrize("status, body", [(500, "oops"), (200, '{"ok": 1, "data": {}}'), (200, "not json")])
def test_weibo_long_text_failure_keeps_the_cut_text_and_the_run_goes_on(status, body):
    spider = make_spider({"type": "weibo", "keyword": "芦山", "max_pages": 1})
    _, (detail,) = run(spider, respond(spider, spider.api_url(1), cut_answer(), parser="parse_index",
                                       content_type=JSON, meta={"page": 1}))
    (kept,) = run(spider, respond(spider, detail.url, body, parser="parse_long_text", content_type=JSON,
                                  status=status, meta=detail.meta))[0]
    assert kept.text == CUT and kept.url == "https://weibo.com/9/Cut1"
    assert spider.crawl_stats.error is None and spider.crawl_stats.errors == 1  # recorded, not fatal


# -- liuyan: the detail request as the site sends it; the web firewall in words -----------------------
@pytest.mark.parametrize("status, body", [
    (521, '<html><script>document.cookie="__jsl_clearance_s=1718;max-age=3600;path=/";location.href=location.pathname</script></html>'),
    (200, "<html><head><title>访问被拦截</title></head><body>创宇盾 检测到您的访问存在安全威胁</body></html>"),
    (405, "<html><body>Sorry, your request has been blocked</body></html>"),
])
def test_liuyan_web_firewall_challenge_is_reported_in_words_and_stops_the_run(status, body):
    spider = make_spider({"type": "liuyan", "fid": "539"})
    with pytest.raises(CloseSpider):
        run(spider, respond(spider, spider.base + liuyan.LIST_PATH, body, parser="parse_list", status=status,
                            method="POST"))
    assert spider.blocked
    assert spider.crawl_stats.error == (
        f"blocked: web-firewall challenge page (HTTP {status}) from liuyan.people.com.cn; the board answers a "
        "browser but not this request now: try again later, or open it in a browser")


def test_liuyan_plain_http_errors_and_json_are_not_taken_for_the_firewall():
    spider = make_spider({"type": "liuyan", "fid": "539"})
    run(spider, respond(spider, spider.base + liuyan.LIST_PATH, '{"code": "500", "msg": "busy"}', parser="parse_list",
                        status=500, content_type=JSON, method="POST"))
    assert spider.crawl_stats.error == f"HTTP 500 from {spider.base + liuyan.LIST_PATH}" and not spider.blocked
