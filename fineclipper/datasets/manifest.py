"""The manifest: one row per video (id, source, label, label_name, group, dataset, num_frames) and the chunk plan."""

from __future__ import annotations

import re
from collections import Counter, defaultdict

MANIFEST_FIELDS = ("id", "source", "label", "label_name", "group", "dataset", "num_frames")
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_GROUP = re.compile(r"^[A-Za-z0-9]+$")


class AnnotationError(ValueError):
    """A bad annotation line or table row; the message names the file, the line and the problem."""


def sanitize_id(raw: str) -> str:
    """Turn a path-like clip name into a WebDataset-safe key (no dots, no slashes)."""
    key = _UNSAFE.sub("_", raw).strip("_")
    if not key:
        raise ValueError(f"clip name {raw!r} has no usable characters for an id")
    return key


def check_manifest(rows: list[dict], where: str) -> None:
    """Fail with a clear message if ids repeat or a group name cannot be used in a file name."""
    counts = Counter(r["id"] for r in rows)
    repeated = [i for i, n in counts.items() if n > 1]
    if repeated:
        raise AnnotationError(f"{where}: {len(repeated)} ids occur more than once, e.g. {repeated[:3]}")
    for r in rows:
        if not _GROUP.match(str(r["group"])):
            raise AnnotationError(f"{where}: group {r['group']!r} of {r['id']} must be letters and digits only")


def plan_chunks(rows: list[dict], chunk_size: int) -> dict[str, list[dict]]:
    """Split rows into chunks of at most ``chunk_size`` videos; a chunk never mixes groups.

    Chunk ids are ``<group>-<NNNN>``, in manifest order within each group.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    by_group: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_group[r["group"]].append(r)
    chunks = {}
    for group in sorted(by_group):
        members = by_group[group]
        for i in range(0, len(members), chunk_size):
            chunks[f"{group}-{i // chunk_size:04d}"] = members[i : i + chunk_size]
    return chunks
