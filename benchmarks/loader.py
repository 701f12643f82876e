"""Clips/s per worker of our shard loader against a loader in the field's usual style.

    python benchmarks/loader.py [--shards 'shards/demo/*.tar'] [--frames 16] [--size 224] [--repeats 3]

Same clips, same work per clip: 16 segment-sampled frames, their parsing maps and landmark drawings at
224 px. Ours reads WebDataset shards and decodes only the sampled frames (fineclipper.train.data).
The baseline reads per-frame JPEG and mask PNG files and a per-clip landmarks .npy from folders with
PIL, as DFER-CLIP does, exported from the same shards. One worker each (in-process), best of --repeats.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from fineclipper.masks import colorize
from fineclipper.model.render import render_landmarks
from fineclipper.shards import decode_sample, iter_raw
from fineclipper.train.data import ClipTransform, expand_shards, make_loader, segment_indices


def export_folders(shards: list[str], root: Path) -> list[tuple[Path, int]]:
    """Write every sample as frames/NNN.jpg, masks/NNN.png and landmarks.npy in its own folder."""
    clips = []
    for shard in shards:
        for raw in iter_raw(shard):
            folder = root / raw["__key__"]
            (folder / "frames").mkdir(parents=True)
            (folder / "masks").mkdir()
            n = 0
            for name, data in raw.items():
                if name.endswith(".seg.png"):
                    (folder / "masks" / name.replace(".seg", "")).write_bytes(data)
                elif name.endswith(".jpg"):
                    (folder / "frames" / name).write_bytes(data)
                    n += 1
            np.save(folder / "landmarks.npy", decode_sample(raw, frames=[])["landmarks"])
            clips.append((folder, int(raw["cls"])))
    return clips


def folder_clip(folder: Path, n: int, segments: int, size: int, rng) -> dict:
    """DFER-CLIP style: PIL opens each sampled file, resizes, converts; landmarks from a per-clip .npy."""
    from PIL import Image

    idx = segment_indices(n, segments, True, rng)
    landmarks = np.load(folder / "landmarks.npy")
    frames, maps, drawings = [], [], []
    for i in idx:
        with Image.open(folder / "frames" / f"{i:03d}.jpg") as im:
            w, h = im.size
            frames.append(np.asarray(im.convert("RGB").resize((size, size), Image.BILINEAR)))
        with Image.open(folder / "masks" / f"{i:03d}.png") as im:
            maps.append(colorize(np.asarray(im.resize((size, size), Image.NEAREST))))
        drawings.append(render_landmarks(landmarks[i, :, :2].astype(np.float32) * (size, size), size))
    return {k: torch.from_numpy(np.stack(v)).permute(0, 3, 1, 2) for k, v in
            (("frames", frames), ("parsing", maps), ("landmarks", drawings))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shards", default="shards/demo/*.tar")
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    shards = expand_shards([args.shards])
    if not shards:
        raise SystemExit(f"no shards match {args.shards}: run the demo first (snakemake --cores 2 shards)")
    transform = ClipTransform(args.size, args.frames, True, ("frames", "parsing", "landmarks"))
    with tempfile.TemporaryDirectory() as tmp:
        clips = export_folders(shards, Path(tmp))
        counts = {folder: len(list((folder / "frames").iterdir())) for folder, _ in clips}
        best_ours = best_folder = float("inf")
        for _ in range(args.repeats):
            start = time.perf_counter()
            loader = make_loader(shards, transform, 1, 0, train=False)
            n_ours = sum(1 for _ in loader)
            best_ours = min(best_ours, time.perf_counter() - start)
            rng = np.random.default_rng(0)
            start = time.perf_counter()
            for folder, _ in clips:
                folder_clip(folder, counts[folder], args.frames, args.size, rng)
            best_folder = min(best_folder, time.perf_counter() - start)
    ours, folders = n_ours / best_ours, len(clips) / best_folder
    print(f"{len(clips)} clips x {args.frames} frames x 3 streams at {args.size} px, one worker, best of {args.repeats}")
    print(f"shard loader (ours):        {ours:7.1f} clips/s")
    print(f"folder loader (PIL, files): {folders:7.1f} clips/s")
    print(f"ratio ours / folder-style:  {ours / folders:7.2f}x  (target >= 1.5x, and >= 50 clips/s per worker)")


if __name__ == "__main__":
    main()
