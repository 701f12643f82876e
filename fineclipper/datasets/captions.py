"""A dataset's own captions: MAFW's caption lists (what EmoCLIP pre-trains on), read for caption pre-training.

MAFW ships them with its annotations as ``Train_Test_Set/<single|compound>/with_caption_new/set_<k>/<train|test>.txt``:
GBK-encoded text, one clip per line, tab-separated fields: the clip's file name (``00025.mp4``), its emotion
label(s) joined by ``_`` (compound labels: ``anger_disgust``), then the captions, the English one last (the
Chinese one, where present, before it). A line with a file name and labels but no caption (or ``-``, as
EmoCLIP writes for one) leaves that clip without a caption: caption pre-training skips it and says how many.
"""

from __future__ import annotations

from pathlib import Path

from .foldlists import MAFW_CLASSES
from .manifest import AnnotationError, sanitize_id

#: The caption lists below MAFW's ``Train_Test_Set`` folder, in the order they are read (the first caption
#: found for a clip is kept).
MAFW_CAPTION_LISTS = tuple(f"{kind}/with_caption_new/set_{fold}/{split}.txt"
                           for kind in ("single", "compound") for fold in range(1, 6) for split in ("test", "train"))
#: What stands for "no caption" in the lists.
NO_CAPTION = ("", "-")


def decode_caption_list(path: Path) -> list[str]:
    """The lines of a caption list: GBK as MAFW ships it (ASCII and UTF-8 re-saves read too); a byte
    sequence that is neither is an error naming the file and the line."""
    data = path.read_bytes()
    for encoding in ("gbk", "utf-8-sig"):
        try:
            return data.decode(encoding).splitlines()
        except UnicodeDecodeError:
            continue
    for lineno, raw in enumerate(data.splitlines(), 1):
        try:
            raw.decode("gbk")
        except UnicodeDecodeError as e:
            raise AnnotationError(f"{path}:{lineno}: neither GBK nor UTF-8 text ({e.reason} at byte {e.start})") \
                from None
    raise AnnotationError(f"{path}: neither GBK nor UTF-8 text")


def parse_caption_list(path: str | Path) -> list[tuple[int, str, list[str], str | None]]:
    """``(line number, clip id, label names, English caption or None)`` per line of a MAFW caption list."""
    path = Path(path)
    entries = []
    for lineno, line in enumerate(decode_caption_list(path), 1):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        fields = [f.strip() for f in line.split("\t")]
        if len(fields) < 2 or not fields[0]:
            raise AnnotationError(f"{where}: expected tab-separated '<file name>\\t<labels>[\\t...]\\t<caption>', got "
                                  f"{len(fields)} field(s): {line.strip()[:80]!r}")
        labels = fields[1].split("_")
        unknown = [label for label in labels if label not in MAFW_CLASSES]
        if unknown:
            raise AnnotationError(f"{where}: label(s) {unknown} of {fields[0]} are not MAFW's classes "
                                  f"({', '.join(MAFW_CLASSES)})")
        caption = fields[-1] if len(fields) > 2 and fields[-1] not in NO_CAPTION else None
        entries.append((lineno, sanitize_id(Path(fields[0]).stem), labels, caption))
    return entries


def read_mafw_captions(folder: str | Path) -> dict[str, str | None]:
    """Clip id -> English caption (None: listed without one) from MAFW's caption lists below ``folder``
    (its ``Train_Test_Set``). A clip listed in several files keeps the first caption found."""
    folder = Path(folder)
    found = [folder / name for name in MAFW_CAPTION_LISTS if (folder / name).is_file()]
    if not found:
        raise AnnotationError(f"{folder}: no MAFW caption list found (expected e.g. {folder / MAFW_CAPTION_LISTS[0]}); "
                              "dataset.captions names MAFW's Train_Test_Set folder")
    captions: dict[str, str | None] = {}
    for path in found:
        for _, clip, _, caption in parse_caption_list(path):
            if captions.get(clip) is None:
                captions[clip] = caption
    return captions


def write_mafw_caption_list(path: str | Path, entries: list[tuple[str, list[str], str | None]]) -> None:
    """Write ``(file name, label names, English caption or None)`` rows as a MAFW caption list (GBK, tabs,
    a Chinese caption field before the English one): stand-in lists for rehearsals and tests."""
    from ..io import write_bytes

    lines = [f"{name}\t{'_'.join(labels)}\t{'描述' if caption else ''}\t{caption or '-'}"
             for name, labels, caption in entries]
    write_bytes(path, ("\r\n".join(lines) + "\r\n").encode("gbk"))
