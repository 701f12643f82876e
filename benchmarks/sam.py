"""Frames/s of the SAM parser (the masks stage with `parser: sam`), batched against one frame at a time.

    python benchmarks/sam.py [--model-type vit_b] [--frames 64] [--batch-size 16] [--repeats 3]
    python benchmarks/sam.py --save-inputs faces.npz     # here; then, on a GPU machine without MediaPipe:
    python benchmarks/sam.py --inputs faces.npz

Random weights of the chosen architecture (nothing is downloaded: speed does not depend on the weights),
saved and loaded as a real checkpoint. Frames: 224 px face crops of scikit-image's astronaut, shifted
frame by frame, with their Face Mesh landmarks; every part of every frame is prompted. On a GPU the image
encoder runs in bf16. The baseline in the same run feeds the encoder one frame at a time (batch 1), as
segment-anything's SamPredictor does. Default model: vit_b on a GPU, SAM-Tiny on a CPU.
Goal on one GPU: >= 100 frames/s with ViT-B.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from fineclipper.config import load_config
from fineclipper.masks.sam import SamParser, build_sam, sam_architecture


def face_frames(n: int) -> tuple[list[np.ndarray], np.ndarray]:
    import skimage.data

    from fineclipper.face.detect import FaceDetector, crop_face
    from fineclipper.face.mesh import face_mesh_clip

    image = skimage.data.astronaut()
    with FaceDetector() as detector:
        box = detector(image)
    frames = [crop_face(np.roll(image, i % 16, axis=1), box, 0.3, 224) for i in range(n)]
    points, _ = face_mesh_clip(frames)
    return frames, points


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-type", default="vit_b" if torch.cuda.is_available() else "SAM-Tiny")
    parser.add_argument("--frames", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--save-inputs", help="write the frames and their landmarks to this .npz, then stop")
    parser.add_argument("--inputs", help="frames and landmarks from --save-inputs (for a machine without MediaPipe)")
    args = parser.parse_args()
    if args.inputs:
        with np.load(args.inputs) as saved:
            frames, points = list(saved["frames"][: args.frames]), saved["points"][: args.frames]
        args.frames = len(frames)
    else:
        frames, points = face_frames(args.frames)
    if args.save_inputs:
        np.savez_compressed(args.save_inputs, frames=np.stack(frames), points=points)
        print(f"wrote {len(frames)} frames and their landmarks to {args.save_inputs}")
        return
    with tempfile.TemporaryDirectory() as tmp:
        checkpoint = Path(tmp) / "sam.pt"
        torch.save(build_sam(sam_architecture(args.model_type)).state_dict(), checkpoint)
        rates = {}
        for batch in (args.batch_size, 1):
            masks = {"parser": "sam", "checkpoint": str(checkpoint), "model_type": args.model_type, "batch_size": batch}
            sam = SamParser(load_config(overrides={"masks": masks, "train": {"enabled": False}})["masks"])
            sam.parse(frames[:batch], points[:batch], (224, 224))  # warm-up
            times = []
            for _ in range(args.repeats):
                if sam.device.type == "cuda":
                    torch.cuda.synchronize()
                start = time.perf_counter()
                sam.parse(frames, points, (224, 224))
                if sam.device.type == "cuda":
                    torch.cuda.synchronize()
                times.append(time.perf_counter() - start)
            rates[batch] = args.frames / statistics.median(times)
            print(f"{args.model_type} on {sam.device}, encoder batch {batch:>3}: {rates[batch]:8.1f} frames/s "
                  f"(median of {args.repeats}, {args.frames} frames, 10 parts each)")
    print(f"batched / one at a time: {rates[args.batch_size] / rates[1]:.2f}x  "
          "(goal on one GPU with vit_b: >= 100 frames/s)")


if __name__ == "__main__":
    main()
