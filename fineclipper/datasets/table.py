"""Generic manifest table (CSV or Parquet) for any other dataset.

Columns: ``path`` (video file or frame folder, relative to the table's folder or to ``root``),
``label`` (class name or 0-based index), ``group`` (split unit, letters and digits), and optional ``id``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow.parquet as pq

from .manifest import AnnotationError, check_manifest, sanitize_id

REQUIRED = ("path", "label", "group")


def _records(path: Path) -> list[tuple[int, dict]]:
    if path.suffix == ".parquet":
        return [(i + 2, r) for i, r in enumerate(pq.read_table(path).to_pylist())]
    with open(path, newline="", encoding="utf-8") as f:
        return [(i + 2, r) for i, r in enumerate(csv.DictReader(f))]


def read_table_manifest(table: str | Path, classes: list[str], root: str | Path | None, name: str) -> list[dict]:
    """Read a CSV/Parquet manifest; errors name the file, the line (header is line 1) and the problem."""
    table = Path(table)
    if not table.is_file():
        raise AnnotationError(f"{table}: manifest table not found")
    if not classes:
        raise AnnotationError(f"{table}: dataset.classes must list the class names of a table dataset")
    base = Path(root) if root else table.parent
    rows = []
    for lineno, rec in _records(table):
        where = f"{table}:{lineno}"
        missing = [c for c in REQUIRED if rec.get(c) in (None, "")]
        if missing:
            raise AnnotationError(f"{where}: missing value for {', '.join(missing)}")
        label = str(rec["label"]).strip()
        if label in classes:
            idx = classes.index(label)
        elif label.isdigit() and int(label) < len(classes):
            idx = int(label)
        else:
            raise AnnotationError(f"{where}: label {label!r} is neither a class name nor an index below {len(classes)}")
        source = Path(rec["path"])
        rows.append({
            "id": sanitize_id(str(rec.get("id") or source.with_suffix("").as_posix())),
            "source": str(source if source.is_absolute() else base / source),
            "label": idx, "label_name": classes[idx], "group": str(rec["group"]).strip(),
            "dataset": name, "num_frames": -1,
        })
    check_manifest(rows, str(table))
    return rows
