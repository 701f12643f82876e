"""The shard sample schema: the one place that writes and reads samples of the WebDataset shards.

One sample per video, key = the video id (letters, digits, ``_`` and ``-``: WebDataset splits names at
the first dot). Fields:

=================  ===========================================================================
``NNN.jpg``        face crop of kept frame NNN (0-based, in time order), JPEG
``NNN.seg.png``    face-part label map of frame NNN, 8-bit PNG, values index ``masks.LABELS``
``landmarks.npy``  (T, 478, 3) float16, MediaPipe normalised coordinates of the crop, NaN = no face
``blendshapes.npy`` (T, 52) float16, only when the Tasks FaceLandmarker ran
``desc.txt``       the description after the leakage filter, UTF-8
``caption.txt``    the dataset's own caption (MAFW's, a table's caption column), UTF-8; only where one exists
``cls``            label index, ASCII digits; absent for a clip of an unlabelled dataset
``json``           metadata: dataset, id, label, label_name, group, chunk, source, fps,
                   total_frames, frame_indices, boxes, face_detected, face_found,
                   unreadable_frames, frames_declared (frames the source says it holds),
                   frames_decoded (of those, the ones that decode), partial (fewer decode than
                   declared: a truncated file, a broken frame image), landmarks_detected,
                   detection_rate, width, height,
                   rotation (degrees clockwise that turned the source's frames upright),
                   description_backend, description_provenance, removed_words, mask_info,
                   stage_versions
=================  ===========================================================================

Only safe encodings: JPEG, PNG, ``.npy`` without pickle, text and JSON.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from .io import npy_bytes, npy_load

FRAME_EXT = "jpg"
MASK_EXT = "seg.png"


def frame_key(i: int) -> str:
    return f"{i:03d}.{FRAME_EXT}"


def mask_key(i: int) -> str:
    return f"{i:03d}.{MASK_EXT}"


CAPTION_FIELD = "caption.txt"
DESCRIPTION_FIELD = "desc.txt"


def make_sample(key: str, jpegs: list[bytes], pngs: list[bytes], landmarks: np.ndarray, description: str,
                label: int | None, meta: dict, blendshapes: np.ndarray | None = None,
                caption: str | None = None) -> dict:
    """Build one sample dict ready for :class:`webdataset.TarWriter` (all values bytes); an unlabelled clip
    (``label`` None) has no ``cls``, a clip without a caption of its own no ``caption.txt``."""
    if "." in key:
        raise ValueError(f"sample key {key!r} contains a dot")
    if not (len(jpegs) == len(pngs) == len(landmarks)):
        raise ValueError(f"{key}: {len(jpegs)} frames, {len(pngs)} masks and {len(landmarks)} landmark rows differ")
    sample = {"__key__": key, "landmarks.npy": npy_bytes(np.asarray(landmarks, np.float16)),
              DESCRIPTION_FIELD: description.encode("utf-8"),
              "json": json.dumps(meta, sort_keys=True).encode("utf-8")}
    if caption is not None:
        sample[CAPTION_FIELD] = caption.encode("utf-8")
    if label is not None:
        sample["cls"] = str(int(label)).encode("ascii")
    for i, (jpg, png) in enumerate(zip(jpegs, pngs)):
        sample[frame_key(i)] = jpg
        sample[mask_key(i)] = png
    if blendshapes is not None:
        sample["blendshapes.npy"] = npy_bytes(np.asarray(blendshapes, np.float16))
    return sample


def write_shard(path: str | Path, samples: Iterable[dict]) -> None:
    """Write samples to a tar shard atomically; the same samples give the same bytes (fixed file times)."""
    import webdataset as wds

    from .io import atomic_path

    with atomic_path(path) as tmp:
        with wds.TarWriter(str(tmp), mtime=0) as sink:
            for sample in samples:
                sink.write(sample)


def iter_raw(path: str | Path) -> Iterator[dict]:
    """Raw samples (field -> bytes) of one shard, in order."""
    import webdataset as wds

    yield from wds.WebDataset(str(path), shardshuffle=False, empty_check=False)


def iter_metadata(path: str | Path) -> Iterator[dict]:
    """The ``json`` metadata of each sample of a shard, reading no image (tar headers are skipped over)."""
    import tarfile

    with tarfile.open(path) as tar:
        for member in tar:
            if member.name.endswith(".json"):
                yield json.loads(tar.extractfile(member).read())


def num_frames(raw: dict) -> int:
    return sum(1 for k in raw if k.endswith("." + FRAME_EXT) and k[:3].isdigit())


def decode_sample(raw: dict, frames: list[int] | None = None) -> dict:
    """Decode a raw sample; ``frames`` selects which frames and masks to decode (default all)."""
    import cv2

    def image(data: bytes, flags: int) -> np.ndarray:
        return cv2.imdecode(np.frombuffer(data, np.uint8), flags)

    selected = range(num_frames(raw)) if frames is None else frames
    landmarks = npy_load(raw["landmarks.npy"])
    out = {
        "key": raw["__key__"],
        "frames": [cv2.cvtColor(image(raw[frame_key(i)], cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB) for i in selected],
        "masks": [image(raw[mask_key(i)], cv2.IMREAD_UNCHANGED) for i in selected],
        "landmarks": landmarks[list(selected)],
        "description": raw[DESCRIPTION_FIELD].decode("utf-8"),
        "caption": raw[CAPTION_FIELD].decode("utf-8") if CAPTION_FIELD in raw else None,
        "label": int(raw["cls"]) if "cls" in raw else None,
        "meta": json.loads(raw["json"]),
    }
    if "blendshapes.npy" in raw:
        out["blendshapes"] = npy_load(raw["blendshapes.npy"])[list(selected)]
    return out


def stage_versions(shards: list[str]) -> dict:
    """The stage versions that built the shards (from each shard's first sample; shards written by other
    tools record none); shards of different versions are an error, since the model would learn from mixed
    inputs."""
    firsts = {s: next(iter_metadata(s), {}) for s in shards}
    found = {json.dumps(meta["stage_versions"], sort_keys=True): s for s, meta in firsts.items()
             if "stage_versions" in meta}
    if len(found) > 1:
        raise ValueError(f"the shards were built by different stage versions: {' vs '.join(found)} "
                         f"(e.g. {' and '.join(found.values())}); rebuild them")
    return json.loads(next(iter(found))) if found else {}
