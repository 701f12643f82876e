"""Per-clip predictions: rows with the top classes and every class's probability (or, for a clip that could
not be used, its reason), written as CSV or JSON. What `fineclipper predict`, the workflow's ``predict``
target and the evaluation write (see :mod:`fineclipper.predict`)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from .io import write_bytes

#: Columns every predictions file starts with; one ``p_<class>`` column per class follows.
COLUMNS = ("id", "source", "status", "reason", "label", "predicted", "probability", "top", "frames", "description",
           "vocabulary")


def top_classes(classes: list[str], probs: list[float], k: int) -> str:
    """``"happiness 0.71; neutral 0.20; anger 0.05"``."""
    order = sorted(range(len(classes)), key=lambda i: -probs[i])[:k]
    return "; ".join(f"{classes[i]} {probs[i]:.2f}" for i in order)


def prediction_row(classes: list[str], key: str, probs: list[float], top_k: int = 3, **extra) -> dict:
    """The row of a predicted clip."""
    best = max(range(len(classes)), key=lambda i: probs[i])
    return {"id": key, "status": "ok", "predicted": classes[best], "probability": round(probs[best], 6),
            "top": top_classes(classes, probs, top_k), **extra,
            **{f"p_{c}": round(p, 6) for c, p in zip(classes, probs)}}


def failure_row(key: str, reason: str, **extra) -> dict:
    """The row of a clip that could not be used."""
    return {"id": key, "status": "failed", "reason": reason, **extra}


def prediction_rows(classes: list[str], keys: list[str], probs: list[list[float]], listed: list[dict],
                    reasons: dict[str, dict]) -> list[dict]:
    """A row for every listed clip (manifest rows), in list order: its prediction, or why it has none."""
    predicted = dict(zip(keys, probs))
    rows = []
    for item in listed:
        extra = {"source": item["source"], "label": item.get("label_name") or ""}
        if item["id"] in predicted:
            rows.append(prediction_row(classes, item["id"], predicted[item["id"]], **extra))
        else:
            failure = reasons.get(item["id"], {})
            rows.append(failure_row(item["id"],
                                    f"{failure.get('stage', '?')}: {failure.get('reason', 'not in any shard')}",
                                    **extra))
    return rows


def write_predictions(path: str | Path, rows: list[dict]) -> None:
    """Rows as CSV, or as JSON when ``path`` ends in .json; written atomically."""
    if str(path).endswith(".json"):
        write_bytes(path, (json.dumps(rows, indent=2) + "\n").encode())
        return
    columns = list(dict.fromkeys([*COLUMNS, *(k for r in rows for k in r)]))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_bytes(path, buffer.getvalue().encode())


def read_predictions(path: str | Path) -> list[dict]:
    """The rows of a predictions CSV, as strings."""
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))
