"""The streamed 帖子 sheet: what a post may hold (markup, control characters, formulas, spaces) comes
back from openpyxl as the same text, and the header keeps openpyxl's bold font."""

from __future__ import annotations

import io

import openpyxl

from yuqing.digest.report_xlsx import write_posts


def row(i: int, title: str, text: str) -> tuple:
    return (i, "2024-04-01T00:00:00+00:00", "tieba-lushan", title, text, "https://x.org/?a=1&b=<2>", None,
            "negative", 0.9, '["水电气暖"]', '["停水"]', 3, 1, 2, 3)


def test_hostile_text_is_kept_as_text():
    rows = [row(1, '<script>alert("x")</script>芦山停水', "  前后有空格  "),
            row(2, "=HYPERLINK(\"http://evil\")", "控制\x0b字符\x00在此"),
            row(3, "]]></t></is></c>", "&amp; 已转义？")]
    buf = io.BytesIO()
    assert write_posts(rows, buf) == 3
    buf.seek(0)
    ws = openpyxl.load_workbook(buf)["帖子"]
    got = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
    assert got[0][3] == '<script>alert("x")</script>芦山停水' and got[0][4] == "  前后有空格  "
    assert got[1][3].startswith("'=")  # a formula stays text
    assert got[1][4] == "控制字符在此"  # characters XML cannot hold are dropped, not fatal
    assert got[2][3] == "]]></t></is></c>" and got[2][4] == "&amp; 已转义？"
    assert got[0][5] == "https://x.org/?a=1&b=<2>" and got[0][7] == "负面" and got[0][0] == 1
    assert ws["A1"].value == "编号" and ws["A1"].font.b


def test_empty_export_has_the_header_only():
    buf = io.BytesIO()
    assert write_posts([], buf) == 0
    buf.seek(0)
    rows = list(openpyxl.load_workbook(buf)["帖子"].iter_rows(values_only=True))
    assert len(rows) == 1 and rows[0][0] == "编号"


def test_texts_escaped_together_come_back_each_the_same():
    # no NUL in the batch: the texts are escaped joined, and must still come back cell by cell
    rows = [row(1, "a&b<c>", " 首尾空格 "), row(2, "控制\x0b字符", "]]>&lt;"), row(3, "", "普通")]
    buf = io.BytesIO()
    assert write_posts(rows, buf) == 3
    buf.seek(0)
    got = [[c.value for c in r] for r in openpyxl.load_workbook(buf)["帖子"].iter_rows(min_row=2)]
    assert [g[3:5] for g in got] == [["a&b<c>", " 首尾空格 "], ["控制字符", "]]>&lt;"], ["", "普通"]]
    assert [g[0] for g in got] == [1, 2, 3] and got[2][9] == "水电气暖" and got[2][10] == "停水"


def test_rows_read_ahead_in_order_and_a_reader_failure_reaches_the_writer():
    import threading

    import pytest

    from yuqing.digest.report_sheet import Behind, ahead

    assert list(ahead(range(2345), batch=100)) == list(range(2345))
    opened_in: list[str] = []

    def store_rows():  # as the store's cursor: opened and closed in the thread that reads it
        opened_in.append(threading.current_thread().name)
        try:
            yield from range(10_000)
        finally:
            opened_in.append(threading.current_thread().name)

    rows = ahead(store_rows(), batch=10)
    assert [next(rows) for _ in range(5)] == [0, 1, 2, 3, 4]
    rows.close()  # the consumer stops early: the reader ends and closes its cursor itself
    assert opened_in == ["xlsx-reader", "xlsx-reader"]

    def broken():
        yield 1
        raise OSError("database disk image is malformed")

    with pytest.raises(OSError, match="malformed"):
        list(ahead(broken()))

    class Full(io.BytesIO):
        def write(self, data):  # type: ignore[override]
            raise OSError(28, "No space left on device")

    behind = Behind(Full())
    with pytest.raises(OSError, match="No space"):
        try:
            for _ in range(1000):  # the writer's failure stops the maker; nothing hangs
                behind.write(b"x" * 100)
        finally:
            behind.close()
    assert not behind.thread.is_alive()


def test_a_batch_of_plain_texts_and_one_holding_the_marks_come_back_the_same():
    # the fast path (no control character in the batch) and its fallback (a text holding \x01)
    plain = [row(1, "a&b<c>\"'", " 首尾空格 "), row(2, "\u3000全角空格开头", "结尾换行\n"), row(3, "]]>&lt;", "普通")]
    marked = [row(4, "标记\x01在此", "<t>x</t>"), row(5, "正常", "\u3000")]
    for rows, want in ((plain, [["a&b<c>\"'", " 首尾空格 "], ["\u3000全角空格开头", "结尾换行\n"], ["]]>&lt;", "普通"]]),
                       (marked, [["标记在此", "<t>x</t>"], ["正常", "\u3000"]])):
        buf = io.BytesIO()
        assert write_posts(rows, buf) == len(rows)
        buf.seek(0)
        got = [[c.value for c in r] for r in openpyxl.load_workbook(buf)["帖子"].iter_rows(min_row=2)]
        assert [g[3:5] for g in got] == want
        assert [g[0] for g in got] == [r[0] for r in rows] and all(g[7] == "负面" for g in got)


def test_white_space_at_the_ends_of_any_cell_late_in_a_batch_is_kept():
    # the batch looks for spaced texts only where some text has white space at an end: one such
    # cell, in any column, late in a batch of plain rows, must still keep its spaces
    rows = [row(i, f"标题{i}", f"正文{i}") for i in range(1, 700)]
    rows[450] = row(451, "标题\u3000", "正文451")
    rows[460] = (461, "2024-04-01T00:00:00+00:00", " tieba-lushan", "标题", "正文", "https://x.org/ ", "作者\t",
                 "negative", 0.9, '["水电气暖"]', '["停水"]', 3, 1, 2, 3)
    buf = io.BytesIO()
    assert write_posts(rows, buf) == 699
    buf.seek(0)
    got = [[c.value for c in r] for r in openpyxl.load_workbook(buf)["帖子"].iter_rows(min_row=2)]
    assert got[450][3] == "标题\u3000" and got[460][2] == " tieba-lushan"
    assert got[460][5] == "https://x.org/ " and got[460][6] == "作者\t"
    assert got[449][3] == "标题450" and got[698][4] == "正文699"
