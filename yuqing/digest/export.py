"""Posts out as CSV (UTF-8 with BOM, so Excel opens Chinese), JSON lines or xlsx, streamed.

At most MAX_ROWS posts; rows come from a cursor in batches, so memory stays flat for any size.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Iterable, Iterator
from typing import IO, Any

from yuqing.store.reports import EXPORT_COLUMNS

logger = logging.getLogger(__name__)

MAX_ROWS = 100_000
EXPORT_FORMATS = ("csv", "xlsx", "jsonl")
CSV_HEAD = EXPORT_COLUMNS


def _safe(value: Any) -> Any:
    # a cell starting with = + - @ would run as a formula in Excel: post text stays text
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def csv_chunks(rows: Iterable[tuple[Any, ...]], chunk_rows: int = 500) -> Iterator[bytes]:
    """CSV as UTF-8 byte chunks, BOM first."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_HEAD)
    first = True
    n = 0
    for row in rows:
        writer.writerow([_safe(v) for v in row])
        n += 1
        if n % chunk_rows == 0:
            yield (("\ufeff" if first else "") + buf.getvalue()).encode("utf-8")
            first = False
            buf.seek(0)
            buf.truncate()
    yield (("\ufeff" if first else "") + buf.getvalue()).encode("utf-8")


def jsonl_chunks(rows: Iterable[tuple[Any, ...]], chunk_rows: int = 500) -> Iterator[bytes]:
    lines: list[str] = []
    for row in rows:
        item = dict(zip(EXPORT_COLUMNS, row, strict=False))
        for key in ("topics", "keywords"):
            item[key] = json.loads(item[key] or "[]")
        lines.append(json.dumps(item, ensure_ascii=False))
        if len(lines) >= chunk_rows:
            yield ("\n".join(lines) + "\n").encode("utf-8")
            lines = []
    if lines:
        yield ("\n".join(lines) + "\n").encode("utf-8")


def write(rows: Iterable[tuple[Any, ...]], fmt: str, out: IO[bytes]) -> int:
    """Write rows in `fmt` to a binary stream; returns the row count."""
    counted = _Counter(rows)
    if fmt == "xlsx":
        from yuqing.digest.report_xlsx import write_posts

        if out.seekable():
            write_posts(counted, out)
        else:  # a zip needs seeking: build it in a temporary file (on disk past 8 MB), then copy
            import shutil
            import tempfile

            with tempfile.SpooledTemporaryFile(max_size=8 << 20) as tmp:
                write_posts(counted, tmp)
                tmp.seek(0)
                shutil.copyfileobj(tmp, out)
        return counted.n
    chunks = csv_chunks(counted) if fmt == "csv" else jsonl_chunks(counted)
    for chunk in chunks:
        out.write(chunk)
    return counted.n


class _Counter:
    def __init__(self, rows: Iterable[tuple[Any, ...]]) -> None:
        self.rows, self.n = rows, 0

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        for row in self.rows:
            self.n += 1
            yield row
