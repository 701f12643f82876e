"""Frames/s of the masks stage with `parser: sam`, today's reference path against the fast path, in one run.

    python benchmarks/sam.py [--model-type vit_b] [--clips 4] [--frames 48] [--batch-size 16] [--repeats 3]
                             [--compile | --no-compile] [--peak-tflops T]
    python benchmarks/sam.py --save-inputs faces.npz     # here; then, on a GPU machine without MediaPipe:
    python benchmarks/sam.py --inputs faces.npz

The stage as it runs: the clips' frames stored as the frames stage stores them (JPEG), the stage's own
loop (`fineclipper.stages.masks.mask_rows`: JPEG decoding one clip ahead, the parser, PNG encoding of the
label maps), after one warm-up clip (which pays for `torch.compile`, timed apart). Model loading is
left out: a masks job pays it once per chunk. Each path prints frames/s, the model FLOPs per frame
(counted by `FlopCounterMode` on the reference path: image encoder and every part's prompt of one frame),
MFU against the device's dense bf16 peak, and peak reserved GPU memory; then the ratio, how far the
label maps of the two paths agree, and what the host alone (decode, encode) can feed.

Random weights of the chosen architecture (nothing is downloaded: speed does not depend on the weights),
saved and loaded as a real checkpoint, the IoU head set to predict 0.9 so that every part's mask is SAM's
(random weights would fall back to the polygons). Frames: 224 px face crops of scikit-image's astronaut,
shifted frame by frame, with their Face Mesh landmarks. Default model: vit_b on a GPU, SAM-Tiny on a CPU.
Goal on one GPU: >= 100 frames/s with ViT-B, the whole stage.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import cv2
import hardware  # benchmarks/hardware.py (this script's folder is first on the path)
import numpy as np
import torch

from fineclipper.config import load_config
from fineclipper.io import encode_image
from fineclipper.masks.sam import SamParser, build_sam, sam_architecture
from fineclipper.stages.common import decode_jpegs
from fineclipper.stages.frames import encode_jpeg
from fineclipper.stages.masks import mask_rows

SIZE = 224


def face_frames(n: int) -> tuple[list[np.ndarray], np.ndarray]:
    import skimage.data

    from fineclipper.face.detect import FaceDetector, crop_face
    from fineclipper.face.mesh import face_mesh_clip

    image = skimage.data.astronaut()
    with FaceDetector() as detector:
        box = detector(image)
    frames = [crop_face(np.roll(image, i % 16, axis=1), box, 0.3, SIZE) for i in range(n)]
    points, _ = face_mesh_clip(frames)
    return frames, points


def confident_checkpoint(path: Path, model_type: str) -> Path:
    """Random weights of ``model_type`` (seed 0) whose IoU head predicts 0.9 for every mask, saved as a state dict."""
    torch.manual_seed(0)
    sam = build_sam(sam_architecture(model_type))
    head = sam.mask_decoder.iou_prediction_head.layers[-1]
    torch.nn.init.zeros_(head.weight)
    torch.nn.init.constant_(head.bias, 0.9)
    torch.save(sam.state_dict(), path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-type", default="vit_b" if torch.cuda.is_available() else "SAM-Tiny")
    parser.add_argument("--clips", type=int, default=4)
    parser.add_argument("--frames", type=int, default=48, help="frames per clip")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--compile", action=argparse.BooleanOptionalAction, default=None,
                        help="torch.compile the fast path's encoder (default: as masks.compile, on a GPU only)")
    parser.add_argument("--save-inputs", help="write the frames and their landmarks to this .npz, then stop")
    parser.add_argument("--inputs", help="frames and landmarks from --save-inputs (for a machine without MediaPipe)")
    hardware.add_peak_argument(parser)
    args = parser.parse_args()
    n = args.clips * args.frames
    if args.inputs:
        with np.load(args.inputs) as saved:
            frames, points = list(saved["frames"][:n]), saved["points"][:n]
        if len(frames) < n:
            raise SystemExit(f"{args.inputs}: {len(frames)} frames, fewer than --clips x --frames = {n}")
    else:
        frames, points = face_frames(n)
    if args.save_inputs:
        np.savez_compressed(args.save_inputs, frames=np.stack(frames), points=points)
        print(f"wrote {len(frames)} frames and their landmarks to {args.save_inputs}")
        return

    clips = [frames[i * args.frames:(i + 1) * args.frames] for i in range(args.clips)]
    rows = [{"id": f"clip{i}", "jpegs": [encode_jpeg(f, 90) for f in clip]} for i, clip in enumerate(clips)]
    points_of = {f"clip{i}": points[i * args.frames:(i + 1) * args.frames] for i in range(args.clips)}
    with tempfile.TemporaryDirectory() as tmp:
        checkpoint = confident_checkpoint(Path(tmp) / "sam.pt", args.model_type)
        masks = {"parser": "sam", "checkpoint": str(checkpoint), "model_type": args.model_type,
                 "batch_size": args.batch_size, "compile": args.compile}
        parsers = {path: SamParser(load_config(overrides={"masks": {**masks, "fast": path == "fast"},
                                                          "train": {"enabled": False}})["masks"])
                   for path in ("reference", "fast")}
    device = parsers["fast"].device
    peak = hardware.peak_tflops(device, args.peak_tflops)
    flops = hardware.count_flops(lambda: parsers["reference"].parse(frames[:1], points[:1], (SIZE, SIZE)))
    compiled = parsers["fast"].fast.fixed_batch
    print(f"SAM {args.model_type} on {torch.cuda.get_device_name(device) if device.type == 'cuda' else 'CPU'}: "
          f"{args.clips} clips x {args.frames} frames of {SIZE} px, encoder batch {args.batch_size}, "
          f"fast path compiled: {compiled}")
    rates, maps = {}, {}
    for path, sam in parsers.items():
        warm_up = hardware.timed(lambda: mask_rows(sam, rows[:1], points_of, progress=False), device)  # noqa: B023
        hardware.reset_memory(device)
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            done, failed = mask_rows(sam, rows, points_of, progress=False)  # ends with each clip's maps on the host
            times.append(time.perf_counter() - start)
        if failed:
            raise SystemExit(f"{path}: {failed[0]['id']} failed: {failed[0]['reason']}")
        rates[path] = n / statistics.median(times)
        maps[path] = np.stack([cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED)
                               for row in done for png in row["pngs"]])
        print(f"{path:<10} stage {hardware.figures(flops, rates[path], device, peak, 'frames')}   "
              f"(median of {args.repeats}; first clip {warm_up:.1f} s)")
    agree = (maps["fast"] == maps["reference"]).mean()
    print(f"fast / reference: {rates['fast'] / rates['reference']:.2f}x   label maps agree on {100 * agree:.2f}% "
          f"of pixels   (goal on one GPU with vit_b: >= 100 frames/s, the whole stage)")
    jpegs = [jpeg for row in rows for jpeg in row["jpegs"]]
    decode_rate = len(jpegs) / hardware.timed(lambda: decode_jpegs(jpegs), torch.device("cpu"))
    encode_rate = n / hardware.timed(lambda: [encode_image(".png", m) for m in maps["fast"]], torch.device("cpu"))
    print(f"host work alone, one thread: JPEG decode {decode_rate:.0f} frames/s, PNG encode {encode_rate:.0f} frames/s")


if __name__ == "__main__":
    main()
