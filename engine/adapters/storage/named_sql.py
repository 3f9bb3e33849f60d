"""SQL kept in `.sql` files next to the backends, procrastinate-style.

Two shapes are read: named statements (`-- name: get_account` then the SQL up
to the next marker) and numbered migrations (`-- migration: 2 add tasks.notes`
then the DDL up to the next marker). Splitting a migration into statements is
left to the backend, which knows its dialect.
"""

import re
from dataclasses import dataclass
from importlib import resources

from engine.app.ports import SEQUENCE_SORT_FIELDS, Sort

_NAME = re.compile(r"^-- name: (\w+)\s*$", re.MULTILINE)
_MIGRATION = re.compile(r"^-- migration: (\d+) (.+?)\s*$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    description: str
    script: str


def read_sql(filename: str) -> str:
    """One file of the `sql` folder shipped with this package."""
    return resources.files(__package__).joinpath("sql", filename).read_text("utf-8")


def named_statements(text: str) -> dict[str, str]:
    """`{name: sql}` for every `-- name:` block, trailing semicolon removed."""
    parts = _NAME.split(text)
    statements: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name in statements:
            raise ValueError(f"statement {name!r} is defined twice")
        statements[name] = body.strip().rstrip(";").strip()
    return statements


def migrations(text: str) -> tuple[Migration, ...]:
    """Every `-- migration: N description` block; versions must run 1, 2, 3... in order."""
    parts = _MIGRATION.split(text)
    found = tuple(
        Migration(int(version), description, script.strip())
        for version, description, script in zip(parts[1::3], parts[2::3], parts[3::3], strict=True)
    )
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise ValueError(f"migration {migration.version} found where {expected} was expected")
    return found


def sort_orders(name_collation: str = "") -> dict[Sort, str]:
    """The whitelist of sorts, and the only text that ever goes into an `ORDER BY
    {order}`: the field, then id as the tie-break, both in the sort's direction."""
    return {
        Sort(field, descending): (f"{field}{name_collation}" if field == "name" else field)
        + f" {way}" + ("" if field == "id" else f", id {way}")
        for field in sorted(SEQUENCE_SORT_FIELDS)
        for descending, way in ((False, "ASC"), (True, "DESC"))
    }


def sorted_name(name: str, sort: Sort) -> str:
    """The statement `name` (a list ending in `ORDER BY {order}`) sorted by `sort`."""
    return f"{name} by {sort.field} {'desc' if sort.descending else 'asc'}"


def with_sorts(statements: dict[str, str], orders: dict[Sort, str]) -> dict[str, str]:
    """Each list's `{order}` expanded once per whitelisted sort."""
    expanded = {}
    for name, text in statements.items():
        if "{order}" in text:
            for sort, order in orders.items():
                expanded[sorted_name(name, sort)] = text.replace("{order}", order)
        else:
            expanded[name] = text
    return expanded
