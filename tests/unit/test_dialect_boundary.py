"""Where databases differ: a flag or hook of the dialect (``springbatch_py/db/``), never a test of
the database's name elsewhere in the package."""

from __future__ import annotations

import re
from pathlib import Path

import springbatch_py

PACKAGE = Path(springbatch_py.__file__).parent

#: A comparison of a dialect or backend name: ``dialect.name == "sqlite"``, ``!=``, ``in (...)``,
#: the same the other way round, a ``match`` on it; and a test of a vendor class.
NAME_TEST = re.compile(
    r"""
      (?:dialect\.name|get_backend_name\(\))\s*(?:==|!=|\bnot\s+in\b|\bin\b)
    | (?:==|!=|\bin\b)\s*[\w.]*(?:dialect\.name|get_backend_name\(\))
    | \bmatch\s+[\w.]*(?:dialect\.name|get_backend_name\(\))
    | isinstance\([^)]*\b\w+Dialect\b
    | springbatch_py\.db\.vendors
    """,
    re.VERBOSE,
)


def name_tests(root: Path) -> list[str]:
    """``path:line: text`` of every name test under ``root`` outside ``springbatch_py/db/``."""
    found = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if relative.parts[0] == "db":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if NAME_TEST.search(line):
                found.append(f"springbatch_py/{relative}:{number}: {line.strip()}")
    return found


def test_the_pattern_sees_each_kind_of_name_test() -> None:
    for line in (
        'if self.db.dialect.name == "sqlite":',
        'if db.dialect.name != "postgresql":',
        'and self.dialect.name in ("mysql", "mariadb")',
        'if url.get_backend_name() != "sqlite":',
        'if "oracle" == engine.dialect.name:',
        "match db.dialect.name:",
        "if isinstance(db.dialect, SQLiteDialect):",
        "from springbatch_py.db.vendors.sqlite import SQLiteDialect",
    ):
        assert NAME_TEST.search(line), line
    for line in ("kind = column.type_for(dialect.name)", "return load_catalog(self.dialect.name)"):
        assert not NAME_TEST.search(line), line


def test_no_database_name_is_tested_outside_the_dialect() -> None:
    found = name_tests(PACKAGE)
    assert not found, (
        "a database difference belongs on the dialect (a flag or hook in springbatch_py/db/"
        "dialect.py, overridden in springbatch_py/db/vendors/<engine>.py with why), not in a "
        "test of its name:\n" + "\n".join(found)
    )
