"""Stage ``masks``: one face-part label map per kept frame (PNG), from the configured parser."""

from __future__ import annotations

import io
import json

import numpy as np
import pyarrow as pa

from ..backends import build_backend
from ..io import encode_image, npy_load
from .common import decode_jpegs, read_rows, run_per_video, stage_main, write_outputs

SCHEMA = pa.schema([
    ("id", pa.string()),
    ("pngs", pa.list_(pa.binary())),
    ("info", pa.string()),  # JSON: what the parser reports per clip (e.g. parts that fell back to polygons)
])


def jpeg_shape(data: bytes) -> tuple[int, int]:
    """(H, W) of a JPEG from its header, without decoding it."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        return im.height, im.width


def mask_clip(parser, frames_row: dict, points: np.ndarray, images: list[np.ndarray] | None = None) -> dict:
    """One ``masks`` table row: the label maps of a clip's stored frames, from its ``(T, 478, 3)`` landmarks
    (``images``: the frames already decoded; None: decoded here if the parser needs them)."""
    if images is None and parser.needs_image:
        images = decode_jpegs(frames_row["jpegs"])
    maps, info = parser.parse(images, points, jpeg_shape(frames_row["jpegs"][0]))
    return {"id": frames_row["id"], "pngs": [encode_image(".png", m) for m in maps],
            "info": json.dumps(info, sort_keys=True)}


def mask_rows(parser, rows: list[dict], points_of: dict[str, np.ndarray],
              progress: bool = True) -> tuple[list[dict], list[dict]]:
    """``(results, failures)`` of the stage's loop over frames rows, each clip's frames decoded one clip ahead
    (while the parser, on a GPU, works on the one before)."""

    def decode(row: dict) -> list[np.ndarray] | None:
        return decode_jpegs(row["jpegs"]) if parser.needs_image else None

    return run_per_video("masks", rows, lambda row, images: mask_clip(parser, row, points_of[row["id"]], images),
                         progress=progress, read=decode)


def run(frames: str, landmarks: str, output: str, failures: str, config: dict, progress: bool = True) -> None:
    parser = build_backend("masks", config)  # a broken model stops here, before any video
    points_of = {r["id"]: npy_load(r["landmarks"]).astype(np.float32) for r in read_rows(landmarks)}
    rows = [r for r in read_rows(frames) if r["id"] in points_of]  # others failed upstream
    results, failed = mask_rows(parser, rows, points_of, progress)
    write_outputs(output, failures, results, SCHEMA, failed)


def main() -> None:
    stage_main("masks", run, inputs=["frames", "landmarks"])


if __name__ == "__main__":
    main()
