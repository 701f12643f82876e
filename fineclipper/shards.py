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


TAR_BLOCK = 512


def _tar_field(header: bytes, start: int, end: int) -> bytes:
    return header[start:end].split(b"\0", 1)[0]


def _tar_size(header: bytes) -> int:
    field = header[124:136]
    if field[0] & 0x80:  # GNU base-256, for members of 8 GiB and more
        return int.from_bytes(field[1:], "big")
    return int(field.split(b"\0", 1)[0].strip() or b"0", 8)


def _pax_records(data: bytes) -> dict[str, str]:
    """The key-value records of a pax extended header, each ``"<length> <key>=<value>\\n"`` with its length
    in bytes counted from the record's start (a value may hold any character, a newline included)."""
    import tarfile

    records, start = {}, 0
    while start < len(data) and data[start:start + 1] != b"\0":
        length, space, _ = data[start:start + 20].partition(b" ")
        if not space or not length.isdigit() or int(length) < 1:
            raise tarfile.ReadError("bad pax header")
        end = start + int(length)
        key, equals, value = data[start + len(length) + 1:end - 1].partition(b"=")
        if not equals or data[end - 1:end] != b"\n":
            raise tarfile.ReadError("bad pax header")
        records[key.decode("utf-8")] = value.decode("utf-8")
        start = end
    return records


def tar_members(path: str | Path) -> Iterator[tuple[str, bytes]]:
    """(name, data) of each regular file in a tar, in order, as ``tarfile`` reads them but at several times
    its pace (it builds a TarInfo and seeks per member). Long names (pax ``path`` records, GNU long names)
    and the ustar prefix are honoured; a bad header checksum or a cut-off member raises ``tarfile.ReadError``
    as ``tarfile`` would, so a broken shard is named, never read short silently."""
    import tarfile

    with open(path, "rb", buffering=1 << 20) as stream:
        long_name = None
        while True:
            header = stream.read(TAR_BLOCK)
            if not header.strip(b"\0"):
                return  # the end-of-archive zero blocks (or a file that ends cleanly at a member boundary)
            if len(header) < TAR_BLOCK:
                raise tarfile.ReadError("unexpected end of data")
            checksum = int(_tar_field(header, 148, 156).strip() or b"0", 8)
            unsigned = sum(header[:148]) + 8 * 32 + sum(header[156:])  # tarfile's first sum, 4x faster
            if checksum != unsigned and checksum not in tarfile.calc_chksums(header):  # some old tars sum signed
                raise tarfile.ReadError("bad checksum")
            size = _tar_size(header)
            data = stream.read(size)
            if len(data) < size or len(stream.read(-size % TAR_BLOCK)) < -size % TAR_BLOCK:
                raise tarfile.ReadError("unexpected end of data")
            kind = header[156:157]
            if kind == b"x":  # pax extended header
                long_name = _pax_records(data).get("path", long_name)
            elif kind == b"L":  # GNU long name
                long_name = data.rstrip(b"\0").decode("utf-8")
            elif kind in (b"0", b"\0", b"7"):
                name = _tar_field(header, 0, 100)
                if header[257:262] == b"ustar" and (prefix := _tar_field(header, 345, 500)):
                    name = prefix + b"/" + name
                yield long_name or name.decode("utf-8"), data
                long_name = None
            else:  # directories, links, global headers: nothing a shard holds
                long_name = None


def iter_raw(path: str | Path) -> Iterator[dict]:
    """Raw samples (field -> bytes, with ``__key__`` and ``__url__``) of one shard, in order: its members
    grouped by key as WebDataset groups them (key: the name up to the first dot of its last part)."""
    sample: dict | None = None
    for name, data in tar_members(path):
        folder, _, base = name.rpartition("/")
        stem, dot, field = base.partition(".")
        if not dot:
            continue  # no field: WebDataset skips such members too
        key = f"{folder}/{stem}" if folder else stem
        if sample is None or sample["__key__"] != key:
            if sample is not None:
                yield sample
            sample = {"__key__": key, "__url__": str(path)}
        if field.lower() in sample:
            raise ValueError(f"{path}: sample {key} holds {field.lower()!r} twice (a shard holds each field once)")
        sample[field.lower()] = data
    if sample is not None:
        yield sample


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

    def image(name: str, flags: int) -> np.ndarray:
        decoded = cv2.imdecode(np.frombuffer(raw[name], np.uint8), flags)
        if decoded is None:
            raise ValueError(f"{name} is no decodable image")
        return decoded

    selected = range(num_frames(raw)) if frames is None else frames
    landmarks = npy_load(raw["landmarks.npy"])
    out = {
        "key": raw["__key__"],
        "frames": [image(frame_key(i), cv2.IMREAD_COLOR_RGB) for i in selected],
        "masks": [image(mask_key(i), cv2.IMREAD_UNCHANGED) for i in selected],
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
