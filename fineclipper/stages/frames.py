"""Stage ``frames``: decode each clip, find the face, crop it with a smoothed box, keep up to
``max_frames`` frames spread uniformly, and store them as JPEG."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from ..face.detect import FaceDetector, crop_face, smooth_boxes
from ..io import encode_image
from ..video import read_clip
from .common import VideoFailure, read_chunk, run_per_video, stage_args, write_outputs

SCHEMA = pa.schema([
    ("id", pa.string()),
    ("jpegs", pa.list_(pa.binary())),
    ("indices", pa.list_(pa.int32())),  # positions of the kept frames in the source
    ("boxes", pa.list_(pa.list_(pa.float32(), 4))),  # smoothed crop boxes (x0, y0, x1, y1), source pixels
    ("detected", pa.list_(pa.bool_())),  # face detector fired on the frame (only frames it ran on count)
    ("fps", pa.float64()),
    ("total_frames", pa.int32()),
    ("width", pa.int32()),
    ("height", pa.int32()),
])


def encode_jpeg(rgb: np.ndarray, quality: int) -> bytes:
    import cv2

    return encode_image(".jpg", np.ascontiguousarray(rgb[..., ::-1]), (cv2.IMWRITE_JPEG_QUALITY, quality))


class FrameExtractor:
    """Turns one manifest row into one ``frames`` table row (see ``SCHEMA``)."""

    def __init__(self, cfg: dict):
        self.cfg = cfg
        self.detector = FaceDetector(cfg["min_detection_confidence"], cfg["full_range"])

    def __call__(self, row: dict) -> dict:
        cfg = self.cfg
        clip = read_clip(row["source"], cfg["max_frames"])
        if len(clip.frames) < cfg["min_frames"]:
            raise VideoFailure(f"too few frames: {len(clip.frames)} < min_frames {cfg['min_frames']}")
        every = cfg["detect_every"]
        probe = sorted(set(range(0, len(clip.frames), every)) | {len(clip.frames) - 1})
        boxes: list = [None] * len(clip.frames)
        for i in probe:
            boxes[i] = self.detector(clip.frames[i])
        hits = sum(boxes[i] is not None for i in probe)
        if hits / len(probe) < cfg["min_face_fraction"]:
            raise VideoFailure(f"no face: detected in {hits} of {len(probe)} probed frames "
                               f"(min_face_fraction {cfg['min_face_fraction']})")
        smooth = smooth_boxes(boxes, cfg["smooth"])
        jpegs = [encode_jpeg(crop_face(f, b, cfg["margin"], cfg["size"]), cfg["jpeg_quality"])
                 for f, b in zip(clip.frames, smooth)]
        h, w = clip.frames[0].shape[:2]
        return {
            "id": row["id"], "jpegs": jpegs, "indices": clip.indices, "boxes": smooth.astype(np.float32).tolist(),
            "detected": [b is not None for b in boxes], "fps": clip.fps, "total_frames": clip.total,
            "width": w, "height": h,
        }


def run(chunk: str, output: str, failures: str, config: dict, progress: bool = True) -> None:
    rows = read_chunk(chunk)["rows"]
    results, failed = run_per_video("frames", rows, FrameExtractor(config), progress=progress)
    write_outputs(output, failures, results, SCHEMA, failed)


def main() -> None:
    args = stage_args(__doc__, ["chunk"])
    run(args.chunk, args.output, args.failures, args.config)


if __name__ == "__main__":
    main()
