"""Stage ``landmarks``: MediaPipe Face Mesh (478 refined points) per kept frame, with a detection
flag; the Tasks FaceLandmarker with blendshapes when ``task_model`` names a ``.task`` file."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from ..face.mesh import face_landmarker_clip, face_mesh_clip
from ..io import npy_bytes
from .common import VideoFailure, decode_jpegs, read_rows, run_per_video, stage_main, write_outputs

SCHEMA = pa.schema([
    ("id", pa.string()),
    ("landmarks", pa.binary()),  # .npy, (T, 478, 3) float16, normalised to the face crop, NaN where no face
    ("detected", pa.list_(pa.bool_())),
    ("blendshapes", pa.binary()),  # .npy (T, 52) float16 with a Tasks bundle that has blendshapes, else null
])


class LandmarkExtractor:
    def __init__(self, cfg: dict):
        self.cfg = cfg

    def __call__(self, row: dict, frames: list[np.ndarray] | None = None) -> dict:
        """The ``landmarks`` table row of a ``frames`` table row; ``frames``: its decoded JPEGs, where they
        were decoded ahead."""
        cfg = self.cfg
        frames = decode_jpegs(row["jpegs"]) if frames is None else frames
        shapes = None
        if cfg.get("task_model"):
            points, detected, shapes = face_landmarker_clip(frames, cfg["task_model"], row["fps"],
                                                            cfg["min_detection_confidence"],
                                                            cfg["min_tracking_confidence"])
        else:
            points, detected = face_mesh_clip(frames, cfg["min_detection_confidence"],
                                              cfg["min_tracking_confidence"], cfg["refine"])
        if detected.mean() < cfg["min_detection_rate"] and cfg["on_low_detection"] == "fail":
            raise VideoFailure(f"face landmarks found in {int(detected.sum())} of {len(detected)} frames "
                               f"(min_detection_rate {cfg['min_detection_rate']})")
        return {
            "id": row["id"], "landmarks": npy_bytes(points.astype(np.float16)), "detected": detected.tolist(),
            "blendshapes": None if shapes is None else npy_bytes(shapes.astype(np.float16)),
        }


def run(frames: str, output: str, failures: str, config: dict, progress: bool = True) -> None:
    results, failed = run_per_video("landmarks", read_rows(frames), LandmarkExtractor(config), progress=progress,
                                    read=lambda row: decode_jpegs(row["jpegs"]))
    write_outputs(output, failures, results, SCHEMA, failed)


def main() -> None:
    stage_main("landmarks", run, inputs=["frames"])


if __name__ == "__main__":
    main()
