"""Clips/s of `fineclipper predict` on this machine, split into preprocessing and model time.

    python benchmarks/predict.py [--clips 4] [--frames 16] [--models FC-Tiny ViT-B-16]

Demo clips of --frames frames (rendered from scikit-image's astronaut), a checkpoint of each model with
random weights (nothing downloaded; speed does not depend on the weights) and the default preprocessing
(crop: detect, landmark parser and describer), the full starplus model with 16 frames per clip. The first
model is the baseline the others' time is compared with, in the same run; each model warms up on one clip.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import torch

from fineclipper import paths
from fineclipper.config import load_config
from fineclipper.datasets.demo import render_clip, write_video
from fineclipper.model import FineCLIPER, ModelConfig
from fineclipper.predict import predict_clips
from fineclipper.train.checkpoint import checkpoint_state, save_checkpoint

CLASSES = ["neutral", "happiness", "surprise", "anger"]


def checkpoint(path: Path, clip_model: str) -> Path:
    """A checkpoint of a random-weight model, recording the default preprocessing."""
    cfg = load_config(overrides={"train": {"model": {"clip_model": clip_model, "pretrained": None}}})
    model = FineCLIPER(ModelConfig(**cfg["train"]["model"]), CLASSES)
    preprocessing = {s: cfg[s] for s in paths.STAGES}
    save_checkpoint(path, checkpoint_state(model, cfg["train"], 0, preprocessing))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=4)
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--models", nargs="+", default=["FC-Tiny", "ViT-B-16"])
    args = parser.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        videos = []
        for i in range(args.clips):
            videos.append(str(d / f"clip{i}.mp4"))
            write_video(videos[-1], render_clip(CLASSES[i % 4], i, {"frames": args.frames, "size": 192, "fps": 25,
                                                                     "seed": 0}), 25)
        totals = {}
        for name in args.models:
            path = str(checkpoint(d / f"{name}.pt", name))
            predict_clips(path, videos[:1], progress=False)  # warm-up: first calls, lazy initialisations
            rows, t = predict_clips(path, videos, progress=False)
            assert all(r["status"] == "ok" for r in rows), rows
            total = t["preprocessing_s"] + t["model_s"]
            totals[name] = total
            print(f"{name:<10} {args.clips} clips x {args.frames} frames: {args.clips / total:6.2f} clips/s "
                  f"(preprocessing {t['preprocessing_s']:.2f} s = {args.clips / t['preprocessing_s']:.2f} clips/s, "
                  f"model {t['model_s']:.2f} s = {args.clips / t['model_s']:.2f} clips/s) on {torch.device('cpu')}")
        base = args.models[0]
        for name in args.models[1:]:
            print(f"{name} takes {totals[name] / totals[base]:.1f}x the time of {base}")


if __name__ == "__main__":
    main()
