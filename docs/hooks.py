"""MkDocs hook: tables generated from the code, so that the docs cannot drift from it.

Registered in ``mkdocs.yml`` under ``hooks:``. In a page's Markdown it replaces

* ``<!-- fields: lunar -->`` / ``<!-- fields: city -->`` with the table of the world's
  context fields (name, default, valid values, unit, meaning), read from the frozen
  config dataclass (``exgen.envs.lunar.config.LanderConfig``,
  ``exgen.envs.city.config.CityConfig``) and the metadata of its fields;
* ``<!-- presets: lunar -->`` / ``<!-- presets: city -->`` with the table of the
  world's presets and the fields each one sets;
* ``<!-- reports -->`` with a list of the experiment reports committed under
  ``docs/results/`` (each ``report.md`` that ``exgen compare`` or ``exgen report``
  wrote there).

``field_table`` and ``preset_table`` are plain functions, called by
``tests/test_docs.py`` as well.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

#: The world name in a marker -> the module and class of its context.
WORLDS = {
    "lunar": ("exgen.envs.lunar.config", "LanderConfig"),
    "city": ("exgen.envs.city.config", "CityConfig"),
}
#: Valid values of the fields that are not numbers with bounds, in words, by type.
_VALID_BY_TYPE = {
    "bool": "`true` or `false`",
    "int | None": "int ≥ 0, or None",
    "str | None": "a path or a shipped map's name, or None",
    "int | tuple[int, ...] | None": "int ≥ 0, a list of them, or None",
    "tuple[int, int] | None": "(column, row), or None",
    "str": "text",
}
#: A marker, with an optional fallback for readers of the raw Markdown up to
#: ``<!-- end -->``, which the generated table replaces as well.
_MARKER = re.compile(r"<!--\s*(fields|presets):\s*(\w+)\s*-->(?:[^<]*?<!--\s*end\s*-->)?")
_REPORTS = re.compile(r"<!--\s*reports\s*-->")
DOCS_DIR = Path(__file__).resolve().parent
#: The unit cell of a dimensionless field or a non-number (an en dash).
NO_UNIT = "\u2013"


def config_class(world: str) -> type:
    """The context dataclass of ``world`` (``lunar`` or ``city``)."""
    import importlib

    if world not in WORLDS:
        raise ValueError(f"unknown world {world!r}; known: {', '.join(WORLDS)}")
    module, name = WORLDS[world]
    return getattr(importlib.import_module(module), name)


def _code(value: Any) -> str:
    if value is None:
        return "`None`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, str):
        return f'`"{value}"`'
    if isinstance(value, float):
        return f"`{value:g}`"
    return f"`{value}`"


def _valid_and_unit(f: dataclasses.Field) -> tuple[str, str]:
    bounds = f.metadata.get("bounds")
    if bounds is not None:
        left = "(" if bounds.open_low else "["
        return f"number or range in {left}{bounds.low:g}, {bounds.high:g}]", bounds.unit or NO_UNIT
    if "int" in f.metadata:
        low, high = f.metadata["int"]
        return f"int in [{low}, {high}]", NO_UNIT
    if f.name == "driving_side":
        return '`"right"` or `"left"`', NO_UNIT
    annotation = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    return _VALID_BY_TYPE.get(annotation, f"`{annotation}`"), NO_UNIT


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def field_table(world: str) -> str:
    """A Markdown table of every context field of ``world``, in declaration order."""
    rows = ["| field | default | valid | unit | meaning |",
            "| --- | --- | --- | --- | --- |"]
    for f in dataclasses.fields(config_class(world)):
        valid, unit = _valid_and_unit(f)
        doc = f.metadata.get("doc", "")
        rows.append(f"| `{f.name}` | {_code(f.default)} | {_cell(valid)} | {unit} | "
                    f"{_cell(doc)} |")
    return "\n".join(rows)


def preset_table(world: str) -> str:
    """A Markdown table of the presets of ``world`` and the fields each one sets."""
    rows = ["| preset | sets |", "| --- | --- |"]
    for name, values in config_class(world).presets.items():
        sets = ", ".join(f"`{key}={_plain(value)}`" for key, value in values.items())
        rows.append(f"| `{name}` | {sets} |")
    return "\n".join(rows)


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def report_list(docs_dir: Path = DOCS_DIR) -> str:
    """A Markdown list of the reports committed under ``docs/results/``."""
    reports = sorted((docs_dir / "results").glob("*/report.md"))
    if not reports:
        return ("*No report is committed under `docs/results/` yet: see below for the "
                "commands that write them.*")
    return "\n".join(f"- [{path.parent.name}](results/{path.parent.name}/report.md)"
                     for path in reports)


def render_markers(markdown: str) -> str:
    """``markdown`` with every marker replaced by its generated table or list."""
    def table(match: re.Match[str]) -> str:
        kind, world = match.groups()
        return field_table(world) if kind == "fields" else preset_table(world)

    markdown = _MARKER.sub(table, markdown)
    return _REPORTS.sub(lambda _: report_list(), markdown)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """MkDocs event: fill the markers of each page."""
    return render_markers(markdown)
