"""A chunk's manifest and failures tables: what every stage, the evaluation and the predictions read."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa

from .io import read_table

#: A failures table: one row per clip a stage could not use, and why.
FAILURE_SCHEMA = pa.schema([("id", pa.string()), ("stage", pa.string()), ("reason", pa.string())])


def read_chunk(path: str | Path) -> dict:
    """The chunk manifest written at parse time: ``{"chunk": id, "classes": [...], "rows": [manifest rows]}``."""
    return json.loads(Path(path).read_text())


def failure_reasons(failures: list[str]) -> dict[str, dict]:
    """id -> failures-table row (stage, reason), over these failures tables."""
    return {f["id"]: f for path in failures for f in read_table(path).to_pylist()}
