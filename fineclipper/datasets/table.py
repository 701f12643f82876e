"""Generic manifest table (CSV or Parquet) for any other dataset.

Columns: ``path`` (video file or frame folder, relative to the table's folder or to ``root``),
``label`` (class name or 0-based index), ``group`` (split unit, letters and digits), and optional ``id``.
With ``dataset.labelled: false``, or without a ``label`` column and without ``dataset.classes``, the dataset
is unlabelled: its clips are preprocessed and packed as any other (with no ``cls``), for predictions. An
optional ``caption`` column holds each clip's own caption (empty: none), for caption pre-training
(``train.captions: dataset``). A CSV may start with a byte-order mark and end its lines with CRLF (as
spreadsheets write them).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow.parquet as pq

from .manifest import AnnotationError, check_manifest, sanitize_id

REQUIRED = ("path", "group")


def _records(path: Path) -> tuple[list[str], list[tuple[int, dict]]]:
    """The table's column names and its rows, each with its line in the file (the header is line 1)."""
    if path.suffix == ".parquet":
        data = pq.read_table(path)
        return data.column_names, [(i + 2, r) for i, r in enumerate(data.to_pylist())]
    with open(path, newline="", encoding="utf-8-sig") as f:  # -sig: without the BOM a spreadsheet may write
        reader = csv.DictReader(f)
        records = [(reader.line_num, r) for r in reader]
        return list(reader.fieldnames or []), records


def read_table_manifest(table: str | Path, classes: list[str], root: str | Path | None, name: str,
                        labelled: bool = True) -> list[dict]:
    """Read a CSV/Parquet manifest; errors name the file, the line (header is line 1) and the problem.

    Rows of an unlabelled table (no ``label`` column, or ``labelled`` False) get ``label`` None."""
    table = Path(table)
    if not table.is_file():
        raise AnnotationError(f"{table}: manifest table not found")
    columns, records = _records(table)
    if not records:
        raise AnnotationError(f"{table}: the table has no rows" + (f" (columns: {', '.join(columns)})"
                                                                    if columns else " (the file is empty)"))
    absent = [c for c in REQUIRED if c not in columns]
    if absent:
        raise AnnotationError(f"{table}: no {' or '.join(absent)} column (columns: {', '.join(columns)})")
    if labelled and classes and "label" not in columns:
        raise AnnotationError(f"{table}: no label column (columns: {', '.join(columns)}) while dataset.classes is "
                              "set; add the column, or set dataset.labelled: false for an unlabelled dataset")
    labelled = labelled and "label" in columns
    captioned = "caption" in columns
    if labelled and not classes:
        raise AnnotationError(f"{table}: dataset.classes must list the class names of a labelled table dataset")
    base = Path(root) if root else table.parent
    rows, lines = [], []
    for lineno, rec in records:
        where = f"{table}:{lineno}"
        missing = [c for c in REQUIRED + (("label",) if labelled else ()) if rec.get(c) in (None, "")]
        if missing:
            raise AnnotationError(f"{where}: missing value for {', '.join(missing)}")
        idx = _label_index(str(rec["label"]).strip(), classes, where) if labelled else None
        source = Path(rec["path"])
        row = {
            "id": sanitize_id(str(rec.get("id") or source.with_suffix("").as_posix())),
            "source": str(source if source.is_absolute() else base / source),
            "label": idx, "label_name": None if idx is None else classes[idx], "group": str(rec["group"]).strip(),
            "dataset": name, "num_frames": -1,
        }
        if captioned:
            row["caption"] = str(rec.get("caption") or "").strip() or None
        rows.append(row)
        lines.append(lineno)
    check_manifest(rows, str(table), lines)
    return rows


def _label_index(label: str, classes: list[str], where: str) -> int:
    if label in classes:
        return classes.index(label)
    if label.isdigit() and int(label) < len(classes):
        return int(label)
    raise AnnotationError(f"{where}: label {label!r} is neither a class name nor an index below {len(classes)}")
