"""Times on digest pages, in the digest email and in reports are shown in `[digest] timezone`, in the
one format of yuqing.localtime (2024-05-01 12:00), the same as the CLI and the alert emails."""

from __future__ import annotations

import re

from tests.digest.conftest import start_web
from tests.digest.test_web import Client
from yuqing.localtime import shown

UTC_STAMP = "2024-05-01T04:00:00+00:00"  # 12:00 in Beijing


def _with_stamp(data):
    data["alerts"][0]["opened_at"] = UTC_STAMP
    data["built_at"] = "2024-05-01T16:30:00+00:00"  # 2024-05-02 00:30 in Beijing: the date turns too
    return data


def test_a_utc_stamp_shows_as_beijing_time_on_the_digest_page_and_email(dsettings, dstore, populated):
    from yuqing.digest.builder import collect
    from yuqing.digest.render import email_html, page, text

    data = _with_stamp(collect(dsettings, dstore, populated.day))
    for name, html in (("page", page(data)), ("email", email_html(data, base="http://127.0.0.1:8080")),
                       ("text", text(data, base="http://127.0.0.1:8080"))):
        assert "2024-05-01 12:00" in html, name
        assert "04:00" not in html, name
    assert "生成于 2024-05-02 00:30" in page(data)
    assert shown(UTC_STAMP, "Asia/Shanghai") == "2024-05-01 12:00"  # the CLI's formatter says the same


def test_digest_in_the_web_app_shows_local_times_in_the_one_format(dsettings, dstore, populated):
    from yuqing.digest.builder import build_digest

    build_digest(dsettings, dstore, populated.day, send=False)
    server = start_web(dsettings)
    try:
        client = Client(server.url)
        status, _, html = client.get(f"/digest/{populated.day.isoformat()}")
        assert status == 200
        # the red alert was opened at 12:00 local (04:00 UTC), and every time has its date and year
        assert "2024-05-01 12:00" in html
        assert not re.search(r"(?<![\d-])\d\d-\d\d \d\d:\d\d", html)  # no yearless "05-01 12:00"
        status, _, html = client.get(f"/alert/{populated.alerts['red']}")
        assert status == 200 and "发出 2024-05-01 12:00" in html
    finally:
        server.shutdown()
        server.server_close()


def test_report_times_use_the_same_format(dsettings, dstore, populated, tmp_path):
    import docx
    import openpyxl

    from yuqing.digest.publish import write_files
    from yuqing.digest.report_special import collect_event

    data = collect_event(dsettings, dstore, populated.events["water"])
    paths = {p.suffix: p for p in write_files(dsettings, dstore, data, ["html", "docx", "xlsx"], tmp_path)}
    first = shown(data["first_seen"], dsettings.digest.timezone)
    assert re.fullmatch(r"2024-05-01 \d\d:\d\d", first)
    html = paths[".html"].read_text(encoding="utf-8")
    assert first in html
    doc = docx.Document(str(paths[".docx"]))
    cells = [c.text for t in doc.tables for r in t.rows for c in r.cells]
    assert first in cells  # the timeline's first row
    wb = openpyxl.load_workbook(str(paths[".xlsx"]), read_only=True)
    timeline = [row[0] for row in wb["时间线"].iter_rows(values_only=True)][1:]
    assert timeline[0] == first and all("+00:00" not in str(t) for t in timeline)
