"""SQL lives only in yuqing/store/: the report builders, the export and the web's report pages hold none."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "yuqing"
# the modules of reports (#14); the rest of the package is checked as it moves its SQL into the store
CHECKED = sorted([*ROOT.glob("digest/report*.py"), ROOT / "digest/publish.py", ROOT / "digest/export.py",
                  *ROOT.glob("web/report*.py"), *ROOT.glob("web/trend*.py")])
SQL = re.compile(r"\b(SELECT\s.+\sFROM|INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+"
                 r"(TABLE|INDEX)|sqlite_master|PRAGMA)\b|\.execute(many)?\(|\.query\(|\.scalar\(|sqlite3\.connect",
                 re.IGNORECASE)


@pytest.mark.parametrize("path", CHECKED, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_sql_outside_the_store(path: Path):
    found = [f"{path.name}:{n}: {line.strip()}" for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if SQL.search(line) and not line.lstrip().startswith("#")]
    assert not found, "SQL outside yuqing/store/ (move it into yuqing/store/reports.py):\n" + "\n".join(found)


def test_the_check_sees_sql():
    assert SQL.search('rows = store.query("SELECT * FROM cases WHERE id = ?", [1])')
    assert SQL.search("conn.execute(sql)") and not SQL.search("report.collect_period(settings, store, p)")
    assert len(CHECKED) >= 7
