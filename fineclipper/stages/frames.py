"""Stage ``frames``: decode each clip, keep up to ``max_frames`` frames spread over it, turn them upright (a
video's rotation tag, a frame image's EXIF orientation), and store them as JPEG face crops. ``crop: detect``
finds the face and crops it with a smoothed box; ``crop: none`` resizes the whole frame
(for datasets whose frames are face crops already: DFEW, FERV39k, MAFW)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from ..chunks import read_chunk
from ..face.detect import FaceDetector, crop_face, smooth_boxes
from ..io import encode_image
from ..video import Clip, read_clip
from .common import VideoFailure, run_per_video, stage_main, write_outputs

SCHEMA = pa.schema([
    ("id", pa.string()),
    ("jpegs", pa.list_(pa.binary())),
    ("indices", pa.list_(pa.int32())),  # positions of the kept frames in the source
    ("boxes", pa.list_(pa.list_(pa.float32(), 4))),  # crop boxes (x0, y0, x1, y1), pixels of the upright frame
    ("detected", pa.list_(pa.bool_())),  # face detector fired on the frame (only frames it ran on count)
    ("face_found", pa.bool_()),  # crop: detect found the face (false: whole frames kept); null with crop: none
    ("unreadable_frames", pa.int32()),  # frames of the source that could not be decoded, skipped
    ("fps", pa.float64()),
    ("total_frames", pa.int32()),
    ("frames_declared", pa.int32()),  # frames the source says it holds (a video's header, a folder's images)
    ("frames_decoded", pa.int32()),  # of those, the ones that decode
    ("partial", pa.bool_()),  # fewer frames decode than the source declares (a truncated file, a broken image)
    ("width", pa.int32()),
    ("height", pa.int32()),
    ("rotation", pa.int16()),  # degrees clockwise that turned the stored frames upright (0, 90, 180, 270)
])


def encode_jpeg(rgb: np.ndarray, quality: int) -> bytes:
    import cv2

    return encode_image(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), (cv2.IMWRITE_JPEG_QUALITY, quality))


def resize_frame(frame: np.ndarray, size: int) -> np.ndarray:
    """The whole frame at ``size`` x ``size`` (area averaging when it shrinks)."""
    import cv2

    h, w = frame.shape[:2]
    if (h, w) == (size, size):
        return frame
    return cv2.resize(frame, (size, size), interpolation=cv2.INTER_AREA if size < min(h, w) else cv2.INTER_LINEAR)


class FrameExtractor:
    """Turns one manifest row into one ``frames`` table row (see ``SCHEMA``)."""

    def __init__(self, cfg: dict):
        self.cfg = cfg
        self.detector = (FaceDetector(cfg["min_detection_confidence"], cfg["full_range"])
                         if cfg["crop"] == "detect" else None)

    def read(self, row: dict) -> Clip:
        """The row's kept frames, decoded (face crops already at the output size stay JPEG: crop: none)."""
        return read_clip(row["source"], self.cfg["max_frames"], self.cfg["size"] if self.detector is None else None)

    def __call__(self, row: dict, clip: Clip | None = None) -> dict:
        """The row's ``frames`` table row; ``clip`` is :meth:`read`'s result where it was read ahead."""
        cfg = self.cfg
        clip = self.read(row) if clip is None else clip
        if len(clip.frames) < cfg["min_frames"]:
            raise VideoFailure(f"too few frames: {len(clip.frames)} < min_frames {cfg['min_frames']}")
        h, w = (cfg["size"], cfg["size"]) if clip.frames[0] is None else clip.frames[0].shape[:2]
        detected, boxes, face_found = self.find_face(clip.frames) if self.detector else ([], None, None)
        if boxes is None:  # whole frames
            jpegs = [data or encode_jpeg(resize_frame(f, cfg["size"]), cfg["jpeg_quality"])
                     for f, data in zip(clip.frames, clip.jpegs or [None] * len(clip.frames))]
            boxes = np.tile([0.0, 0.0, w, h], (len(clip.frames), 1))
        else:
            jpegs = [encode_jpeg(crop_face(f, b, cfg["margin"], cfg["size"]), cfg["jpeg_quality"])
                     for f, b in zip(clip.frames, boxes)]
        return {
            "id": row["id"], "jpegs": jpegs, "indices": clip.indices,
            "boxes": np.asarray(boxes, np.float32).tolist(), "detected": detected, "face_found": face_found,
            "unreadable_frames": clip.unreadable, "fps": clip.fps, "total_frames": clip.total,
            "frames_declared": clip.declared, "frames_decoded": clip.decoded, "partial": clip.partial,
            "width": w, "height": h, "rotation": clip.rotation,
        }

    def find_face(self, frames: list[np.ndarray]) -> tuple[list[bool], np.ndarray | None, bool]:
        """Detector flags per frame (on every ``detect_every``-th frame and the last), smoothed boxes, and
        whether the face was found often enough; too rarely is a failure, or whole frames with ``on_no_face: keep``."""
        cfg = self.cfg
        probe = sorted(set(range(0, len(frames), cfg["detect_every"])) | {len(frames) - 1})
        found: list = [None] * len(frames)
        for i in probe:
            found[i] = self.detector(frames[i])
        hits = sum(found[i] is not None for i in probe)
        detected = [b is not None for b in found]
        if hits / len(probe) >= cfg["min_face_fraction"]:
            return detected, smooth_boxes(found, cfg["smooth"]), True
        if cfg["on_no_face"] == "keep":
            return detected, None, False
        raise VideoFailure(f"no face: detected in {hits} of {len(probe)} probed frames "
                           f"(min_face_fraction {cfg['min_face_fraction']})")


def run(chunk: str, output: str, failures: str, config: dict, progress: bool = True) -> None:
    rows = read_chunk(chunk)["rows"]
    extractor = FrameExtractor(config)
    results, failed = run_per_video("frames", rows, extractor, progress=progress, read=extractor.read)
    write_outputs(output, failures, results, SCHEMA, failed)


def main() -> None:
    stage_main("frames", run, inputs=["chunk"])


if __name__ == "__main__":
    main()
