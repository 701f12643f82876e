"""Stage ``masks``: one face-part label map per kept frame (PNG), from the configured parser."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from ..masks import get_parser
from .common import decode_jpegs, npy_load, read_rows, run_per_video, stage_args, write_outputs

SCHEMA = pa.schema([("id", pa.string()), ("pngs", pa.list_(pa.binary()))])


def encode_png(label_map: np.ndarray) -> bytes:
    import cv2

    ok, data = cv2.imencode(".png", label_map)
    if not ok:
        raise RuntimeError("PNG encoding failed")
    return data.tobytes()


def main() -> None:
    args = stage_args(__doc__, ["frames", "landmarks"])
    parser = get_parser(args.config["parser"], args.config)
    landmarks = {r["id"]: npy_load(r["landmarks"]).astype(np.float32) for r in read_rows(args.landmarks)}
    frames = [r for r in read_rows(args.frames) if r["id"] in landmarks]  # others failed upstream

    def process(row: dict) -> dict:
        images = decode_jpegs(row["jpegs"])
        points = landmarks[row["id"]]
        return {"id": row["id"], "pngs": [encode_png(parser(im, pts)) for im, pts in zip(images, points)]}

    results, failures = run_per_video("masks", frames, process)
    write_outputs(args.output, args.failures, results, SCHEMA, failures)


if __name__ == "__main__":
    main()
