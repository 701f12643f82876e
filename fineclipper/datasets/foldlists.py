"""Readers for the DFER-CLIP-style fold lists of DFEW, FERV39k and MAFW.

Line format: ``<frame-folder path> <number of frames> <0-based label>``. The paths are absolute paths
on the list authors' machine; they are re-rooted under the user's copy of the dataset folder.
A clip's group is the fold in which it is a test clip (``fold1``..``fold5``) or ``train``/``test``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .manifest import AnnotationError, check_manifest, sanitize_id

SEVEN_CLASSES = ("happiness", "sadness", "neutral", "anger", "surprise", "disgust", "fear")
MAFW_CLASSES = SEVEN_CLASSES + ("contempt", "anxiety", "helplessness", "disappointment")
#: Group of clips that some training list names but no test list does: they train in every fold.
NO_TEST_FOLD = "notest"


@dataclass(frozen=True)
class FoldListSpec:
    name: str
    classes: tuple[str, ...]
    anchor: str  # the dataset's own folder inside the authors' absolute paths
    id_prefix: str  # leading part of the re-rooted path that ids leave out
    pattern: str  # list file name with {fold} and {split}
    folds: tuple[int, ...] = ()  # empty: one train/test split


SPECS = {
    "dfew": FoldListSpec("dfew", SEVEN_CLASSES, "DFEW", "DFEW_Frame_Face/", "DFEW_set_{fold}_{split}.txt",
                         (1, 2, 3, 4, 5)),
    "ferv39k": FoldListSpec("ferv39k", SEVEN_CLASSES, "FERV39K", "2_ClipsforFaceCrop/", "FERV39K_{split}.txt"),
    "mafw": FoldListSpec("mafw", MAFW_CLASSES, "MAFW", "data/faces/", "MAFW_set_{fold}_{split}.txt", (1, 2, 3, 4, 5)),
}


def reroot(raw_path: str, anchor: str) -> str:
    """Return the part of ``raw_path`` below the ``anchor`` folder (or the path itself if relative)."""
    parts = PurePosixPath(raw_path).parts
    if anchor in parts:
        rel = parts[parts.index(anchor) + 1 :]
    elif not raw_path.startswith("/"):
        rel = parts
    else:
        raise ValueError(f"path {raw_path!r} does not contain the dataset folder {anchor!r}")
    if not rel:
        raise ValueError(f"path {raw_path!r} names the dataset folder itself, not a clip")
    return "/".join(rel)


def parse_list(path: Path, spec: FoldListSpec) -> list[tuple[int, str, int, int]]:
    """Parse one list file into ``(line number, relative path, num_frames, label)`` tuples."""
    entries = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            fields = line.split()
            where = f"{path}:{lineno}"
            if len(fields) != 3:
                raise AnnotationError(f"{where}: expected '<path> <frames> <label>', got {len(fields)} fields: "
                                      f"{line.strip()!r}")
            raw, frames, label = fields
            try:
                num_frames, label_idx = int(frames), int(label)
            except ValueError:
                raise AnnotationError(f"{where}: frame count and label must be integers: {line.strip()!r}") from None
            if not 0 <= label_idx < len(spec.classes):
                raise AnnotationError(f"{where}: label {label_idx} outside 0..{len(spec.classes) - 1} for {spec.name}")
            if num_frames < 0:
                raise AnnotationError(f"{where}: negative frame count {num_frames}")
            try:
                rel = reroot(raw, spec.anchor)
            except ValueError as e:
                raise AnnotationError(f"{where}: {e}") from None
            entries.append((lineno, rel, num_frames, label_idx))
    return entries


def read_fold_lists(spec: FoldListSpec, annotations: str | Path, root: str | Path) -> tuple[list[dict], dict]:
    """Build the manifest of a fold-list dataset and report what the lists contained.

    Repeated lines are merged (counted in the stats); a clip listed with two labels, in two test
    folds, or as train and test of the same fold is an error naming both places.
    """
    annotations, root = Path(annotations), Path(root)
    splits = [(f, s) for f in (spec.folds or (None,)) for s in ("test", "train")]
    clips: dict[str, dict] = {}
    seen_at: dict[str, str] = {}
    test_of: dict[str, str] = {}
    stats = {"lines": 0, "repeated_lines": 0, "files": 0}
    for fold, split in splits:
        path = annotations / spec.pattern.format(fold=fold, split=split)
        if not path.is_file():
            raise AnnotationError(f"{path}: annotation list not found (dataset {spec.name})")
        stats["files"] += 1
        in_this_file = set()
        for lineno, rel, num_frames, label in parse_list(path, spec):
            stats["lines"] += 1
            where = f"{path}:{lineno}"
            if rel in clips:
                prev = clips[rel]
                if prev["label"] != label:
                    raise AnnotationError(f"{where}: {rel} has label {label} here but {prev['label']} "
                                          f"at {seen_at[rel]}")
            else:
                rid = rel[len(spec.id_prefix) :] if rel.startswith(spec.id_prefix) else rel
                clips[rel] = {
                    "id": sanitize_id(rid), "source": str(root / rel), "label": label,
                    "label_name": spec.classes[label], "dataset": spec.name, "num_frames": num_frames,
                }
                seen_at[rel] = where
            if rel in in_this_file:
                stats["repeated_lines"] += 1
            in_this_file.add(rel)
            group = f"fold{fold}" if fold is not None else split
            if split == "test" or fold is None:
                if rel in test_of and test_of[rel] != group:
                    raise AnnotationError(f"{where}: {rel} is already in group {test_of[rel]} ({seen_at[rel]})")
                test_of[rel] = group
            elif test_of.get(rel) == group:
                raise AnnotationError(f"{where}: {rel} is both a training and a test clip of fold {fold}")
    rows = []
    for rel, row in clips.items():
        row["group"] = test_of.get(rel, NO_TEST_FOLD)
        rows.append(row)
    stats["clips"] = len(rows)
    stats["no_test_fold"] = sum(r["group"] == NO_TEST_FOLD for r in rows)
    check_manifest(rows, str(annotations))
    return rows, stats
