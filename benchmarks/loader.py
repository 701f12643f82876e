"""Clips/s per worker of our shard loader against a loader in the field's usual style.

    python benchmarks/loader.py [--shards 'shards/demo/*.tar'] [--frames 16] [--size 224] [--repeats 3]

Same clips, same work per clip: 16 segment-sampled frames, their parsing maps and landmark drawings at
224 px, one random sized crop and flip per clip. Ours reads WebDataset shards, decodes only the sampled
frames with OpenCV, adds colour jitter, and hands over uint8 (normalised later, on the device)
(fineclipper.train.data). The baseline is the field's usual loader, as DFER-CLIP's VideoDataset works:
per-frame JPEG and mask PNG files and a per-clip landmarks .npy in folders (exported from the same
shards), the folder listed per clip, PIL for reading, cropping and resizing, float tensors made in the
worker. One worker each (in-process), best of --repeats.
"""

from __future__ import annotations

import argparse
import glob
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from fineclipper.io import npy_load
from fineclipper.masks import colorize
from fineclipper.model.render import render_landmarks
from fineclipper.shards import iter_raw
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
            np.save(folder / "landmarks.npy", npy_load(raw["landmarks.npy"]))
            clips.append((folder, int(raw["cls"])))
    return clips


def folder_clip(folder: Path, segments: int, size: int, rng) -> dict:
    """The field's usual loader (as DFER-CLIP's VideoDataset does it): list and sort the clip's folder,
    PIL-open each sampled file, one random sized crop and flip for the clip applied frame by frame with
    PIL, stack, and convert to float in [0, 1] in the worker. Masks and landmarks get the same."""
    from PIL import Image

    files = sorted(glob.glob(str(folder / "frames" / "*")))
    mask_files = sorted(glob.glob(str(folder / "masks" / "*")))
    idx = segment_indices(len(files), segments, True, rng)
    landmarks = np.load(folder / "landmarks.npy")
    with Image.open(files[0]) as first:
        w, h = first.size
    area, ratio = rng.uniform(0.7, 1.0), np.exp(rng.uniform(np.log(3 / 4), np.log(4 / 3)))
    cw, ch = min(w, int(w * np.sqrt(area * ratio))), min(h, int(h * np.sqrt(area / ratio)))
    x0, y0 = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
    flip = rng.random() < 0.5
    box = (x0, y0, x0 + cw, y0 + ch)

    def load(path, mode, resample):
        with Image.open(path) as im:
            out = im.convert(mode).crop(box).resize((size, size), resample)
        return out.transpose(Image.FLIP_LEFT_RIGHT) if flip else out

    frames = [np.asarray(load(files[i], "RGB", Image.BILINEAR)) for i in idx]
    maps = [colorize(np.asarray(load(mask_files[i], "L", Image.NEAREST))) for i in idx]
    drawings = []
    for i in idx:
        xy = (landmarks[i, :, :2].astype(np.float32) * (w, h) - (x0, y0)) * (size / cw, size / ch)
        if flip:
            xy[:, 0] = size - 1 - xy[:, 0]
        drawings.append(render_landmarks(xy, size))
    return {k: torch.from_numpy(np.stack(v)).permute(0, 3, 1, 2).float().div(255) for k, v in
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
        best_ours = best_folder = float("inf")
        for _ in range(args.repeats):
            start = time.perf_counter()
            loader = make_loader(shards, transform, 1, 0, train=False)
            n_ours = sum(1 for _ in loader)
            best_ours = min(best_ours, time.perf_counter() - start)
            rng = np.random.default_rng(0)
            start = time.perf_counter()
            for folder, _ in clips:
                folder_clip(folder, args.frames, args.size, rng)
            best_folder = min(best_folder, time.perf_counter() - start)
    ours, folders = n_ours / best_ours, len(clips) / best_folder
    print(f"{len(clips)} clips x {args.frames} frames x 3 streams at {args.size} px, one worker, "
          f"best of {args.repeats}")
    print(f"shard loader (ours):        {ours:7.1f} clips/s")
    print(f"folder loader (PIL, files): {folders:7.1f} clips/s")
    print(f"ratio ours / folder-style:  {ours / folders:7.2f}x  (target >= 1.5x, and >= 50 clips/s per worker)")


if __name__ == "__main__":
    main()
