"""Parsing an import file (CSV or YAML) into numbered rows of cells; no database, no domain checks."""

from __future__ import annotations

import csv
import io
from typing import Any, Literal

import yaml

from device_registry.errors import ImportRejected, RowError

Format = Literal["csv", "yaml"]
COLUMNS = [
    "name",
    "kind",
    "site",
    "address",
    "port",
    "protocols",
    "credential",
    "uplinks",
    "tags",
    "lifecycle",
    "vendor",
    "model",
    "serial",
    "firmware",
    "description",
]
LIST_COLUMNS = {"protocols", "uplinks", "tags"}
REQUIRED = {"name", "kind", "site"}


FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make Excel, LibreOffice or Google Sheets read a cell as a formula (OWASP,
"CSV injection")."""


def formula_safe(cell: str) -> str:
    """Prefix ``'`` to a cell a spreadsheet would evaluate (a camera reporting ``=HYPERLINK(…)`` as its
    manufacturer), and to a cell that already starts with ``'`` + trigger, so :func:`formula_unescape`
    restores every value exactly."""
    if cell[:1] in FORMULA_TRIGGERS or (cell[:1] == "'" and cell[1:2] in (*FORMULA_TRIGGERS, "'")):
        return "'" + cell
    return cell


def formula_unescape(cell: str) -> str:
    if cell[:1] == "'" and cell[1:2] in (*FORMULA_TRIGGERS, "'"):
        return cell[1:]
    return cell


def _cell(value: Any, column: str) -> Any:
    if isinstance(value, str):
        value = value.strip()
        if value == "":
            return [] if column in LIST_COLUMNS else None
        if column in LIST_COLUMNS:
            return [part.strip() for part in value.split(";") if part.strip()]
    return value


def parse_csv(text: str) -> tuple[list[tuple[int, dict[str, Any]]], list[str]]:
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    unknown = [h for h in header if h not in COLUMNS]
    missing = REQUIRED - set(header)
    if unknown or missing:
        errors = [RowError(1, h, "unknown column") for h in unknown] + [
            RowError(1, m, "required column missing") for m in sorted(missing)
        ]
        raise ImportRejected(errors)
    rows = []
    line = 1
    for record in reader:
        line = reader.line_num
        if None in record:
            raise ImportRejected([RowError(line, "(row)", "more cells than header columns")])
        rows.append((line, {k: _cell(formula_unescape(v), k) for k, v in record.items() if v is not None}))
    return rows, header


def parse_yaml(text: str) -> tuple[list[tuple[int, dict[str, Any]]], list[str]]:
    loader_cls = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loader = loader_cls(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return [], []
        if isinstance(root, yaml.MappingNode):
            matches = [v for k, v in root.value if isinstance(k, yaml.ScalarNode) and k.value == "devices"]
            if not matches:
                raise ImportRejected(
                    [RowError(root.start_mark.line + 1, "devices", "expected a list of devices")]
                )
            root = matches[0]
        if not isinstance(root, yaml.SequenceNode):
            raise ImportRejected(
                [RowError(root.start_mark.line + 1, "(document)", "expected a list of devices")]
            )
        rows = []
        seen: set[str] = set()
        for node in root.value:
            line = node.start_mark.line + 1
            value = loader.construct_document(node)
            if not isinstance(value, dict):
                raise ImportRejected([RowError(line, "(row)", "each device must be a mapping")])
            unknown = [k for k in value if k not in COLUMNS]
            if unknown:
                raise ImportRejected([RowError(line, str(k), "unknown field") for k in unknown])
            seen.update(value)
            rows.append((line, {k: (_cell(v, k) if isinstance(v, str) else v) for k, v in value.items()}))
        return rows, [c for c in COLUMNS if c in seen]
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise ImportRejected(
            [RowError((mark.line + 1) if mark else 0, "(yaml)", str(error).splitlines()[0])]
        ) from None
    finally:
        loader.dispose()


def parse(text: str, fmt: Format) -> tuple[list[tuple[int, dict[str, Any]]], list[str]]:
    return parse_csv(text) if fmt == "csv" else parse_yaml(text)


def detect_format(filename: str | None, content_type: str | None = None) -> Format:
    name = (filename or "").lower()
    if name.endswith((".yaml", ".yml")) or (content_type or "").endswith("yaml"):
        return "yaml"
    return "csv"
