"""The signals' modules (#15) hold no SQL: it lives in yuqing/store/ (hotlist, engagement, liuyan)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reports.test_sql_in_store import SQL

ROOT = Path(__file__).resolve().parents[2] / "yuqing"
CHECKED = [ROOT / "alerts" / f"{name}.py" for name in ("hotlist", "spread", "liuyan", "signals")]
CHECKED.append(ROOT / "crawlers" / "spiders" / "hotlist.py")


@pytest.mark.parametrize("path", CHECKED, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_sql_in_the_signals(path: Path) -> None:
    found = [f"{path.name}:{n}: {line.strip()}" for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if SQL.search(line) and not line.lstrip().startswith("#")]
    assert not found, "SQL outside yuqing/store/:\n" + "\n".join(found)
