"""Expression classes across datasets, matched by name: the one table that says which class of one dataset
is which class of another (DFEW and FERV39k's 7 classes are a subset of MAFW's 11).

Labels are never mapped for a metric: a zero-shot evaluation scores a dataset's own labels against
predictions over its own classes. The table serves comparisons, such as which of a zero-shot target's
classes the model saw in training.
"""

from __future__ import annotations

#: Canonical class name -> other spellings met in label lists (lower case).
ALIASES = {
    "happiness": ("happy", "joy", "happiness"),
    "sadness": ("sad", "sadness"),
    "neutral": ("neutral", "calm"),
    "anger": ("angry", "anger"),
    "surprise": ("surprised", "surprise"),
    "disgust": ("disgusted", "disgust"),
    "fear": ("fearful", "afraid", "fear"),
    "contempt": ("contemptuous", "contempt"),
    "anxiety": ("anxious", "anxiety"),
    "helplessness": ("helpless", "helplessness"),
    "disappointment": ("disappointed", "disappointment"),
}
_CANONICAL = {alias: name for name, aliases in ALIASES.items() for alias in aliases}


def canonical(name: str) -> str:
    """The table's name for a class name (itself, lower-cased, if the table does not know it)."""
    key = name.strip().lower()
    return _CANONICAL.get(key, key)


def match_by_name(source: list[str], target: list[str]) -> dict[str, str | None]:
    """For each ``target`` class, the ``source`` class of the same canonical name, or None."""
    by_name = {canonical(c): c for c in source}
    return {c: by_name.get(canonical(c)) for c in target}
