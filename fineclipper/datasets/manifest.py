"""The manifest: one row per video (id, source, label, label_name, group, dataset, num_frames) and the chunk plan."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter, defaultdict

MANIFEST_FIELDS = ("id", "source", "label", "label_name", "group", "dataset", "num_frames")
_UNSAFE = re.compile(r"[^\w-]+")  # \w: letters and digits of any script, and _
_GROUP = re.compile(r"^[A-Za-z0-9]+$")


class AnnotationError(ValueError):
    """A bad annotation line or table row; the message names the file, the line and the problem."""


def sanitize_id(raw: str) -> str:
    """Turn a path-like clip name into a WebDataset-safe key (no dots, no slashes): letters and digits of any
    script are kept (NFC-normalised, so the same name typed on any system gives the same id), every other
    run of characters becomes ``_``."""
    key = _UNSAFE.sub("_", unicodedata.normalize("NFC", raw)).strip("_")
    if not key:
        raise ValueError(f"clip name {raw!r} has no usable characters for an id")
    return key


def check_manifest(rows: list[dict], where: str, lines: list[int] | None = None) -> None:
    """Fail with a clear message if ids repeat or a group name cannot be used in a file name. ``lines``: each
    row's line in the file ``where`` (a table's), for a message naming the lines of both occurrences."""
    if lines is not None:
        first_line: dict[str, int] = {}
        for r, line in zip(rows, lines, strict=True):
            if r["id"] in first_line:
                raise AnnotationError(f"{where}:{line}: id {r['id']!r} is also the id of line {first_line[r['id']]}")
            first_line[r["id"]] = line
    counts = Counter(r["id"] for r in rows)
    repeated = [i for i, n in counts.items() if n > 1]
    if repeated:
        raise AnnotationError(f"{where}: {len(repeated)} ids occur more than once, e.g. {repeated[:3]}")
    for r in rows:
        if not _GROUP.match(str(r["group"])):
            raise AnnotationError(f"{where}: group {r['group']!r} of {r['id']} must be letters and digits only")


def stratified_order(rows: list[dict], seed: int) -> list[dict]:
    """Rows in a seeded, stable order that spreads every class evenly over the list.

    The fold lists are sorted by class, so chunks cut in list order are nearly single-class. Here each
    class's rows are put in a pseudo-random order (a hash of seed and id, independent of list order),
    the k-th of a class's n rows gets the position (k + 0.5) / n, and all rows are sorted by position:
    every run of consecutive rows then holds each class in about its share of the whole.
    """
    by_class: dict = defaultdict(list)
    for r in rows:
        by_class[r.get("label")].append(r)
    keyed = []
    for members in by_class.values():
        members = sorted(members, key=lambda r: _hash(seed, r["id"]))
        keyed += [((k + 0.5) / len(members), _hash(seed + 1, r["id"]), r) for k, r in enumerate(members)]
    return [r for *_, r in sorted(keyed, key=lambda item: item[:2])]


def _hash(seed: int, key: str) -> int:
    return int.from_bytes(hashlib.blake2b(f"{seed}:{key}".encode(), digest_size=8).digest(), "big")


def plan_chunks(rows: list[dict], chunk_size: int, seed: int = 0, limit: int | None = None) -> dict[str, list[dict]]:
    """Split rows into chunks of at most ``chunk_size`` videos; a chunk never mixes groups.

    Within each group rows are in :func:`stratified_order`, so every chunk (and shard) holds about the
    group's class mix; ``limit`` keeps the first that many of each group (a class-mixed sample, for a
    trial run). Chunk ids are ``<group>-<NNNN>``.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    by_group: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_group[r["group"]].append(r)
    chunks = {}
    for group in sorted(by_group):
        members = stratified_order(by_group[group], seed)[:limit]
        for i in range(0, len(members), chunk_size):
            chunks[f"{group}-{i // chunk_size:04d}"] = members[i : i + chunk_size]
    return chunks
