"""Training clips/s and peak GPU memory of FineCLIPER at ViT-B/16, for when a GPU is lent.

    python benchmarks/gpu_step.py [--clip-model ViT-B-16] [--variant starplus] [--batch-size 32] [--frames 16]
                                  [--steps 20] [--checkpointing] [--pretrained PATH_OR_TAG]

Synthetic uint8 clips already on the device (this measures the model step, not the loader): forward,
loss, backward and AdamW step under bf16 autocast. Prints clips/s and peak memory, and the same step
without adapters' gradients (frozen CLIP forward only) as a baseline in the same run. Without a GPU it
runs on the CPU and says so (a smoke run: `--clip-model FC-Tiny --batch-size 2 --frames 4 --steps 2`).
"""

from __future__ import annotations

import argparse
import time

import torch

from fineclipper.model import FineCLIPER, ModelConfig
from fineclipper.train.engine import model_inputs

DFEW = ["happiness", "sadness", "neutral", "anger", "surprise", "disgust", "fear"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clip-model", default="ViT-B-16")
    parser.add_argument("--variant", default="starplus")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--checkpointing", action="store_true")
    parser.add_argument("--pretrained", default=None)
    args = parser.parse_args()
    cuda = torch.cuda.is_available()
    device = torch.device("cuda" if cuda else "cpu")
    if not cuda:
        print("no CUDA device: running on the CPU, so these are not GPU figures (a smoke run)")
    torch.backends.cuda.matmul.allow_tf32 = True
    cfg = ModelConfig(clip_model=args.clip_model, pretrained=args.pretrained, variant=args.variant,
                      num_frames=args.frames, checkpointing=args.checkpointing)
    model = FineCLIPER(cfg, DFEW).to(device)
    b, t, size = args.batch_size, args.frames, model.clip.visual.image_size[0]
    batch = {s: torch.randint(0, 255, (b, t, 3, size, size), dtype=torch.uint8) for s in cfg.streams}
    batch["description"] = model.tokenize(["the jaw drops and the mouth opens, then back as at the start"] * b)
    batch["label"] = torch.randint(0, len(DFEW), (b,))
    inputs = model_inputs(model, batch, device)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)

    def train_step():
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=cuda):
            loss, _ = model.loss(model(inputs), inputs["label"])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    @torch.no_grad()
    def forward_only():
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=cuda):
            model(inputs)

    results = {}
    for name, step in (("train step", train_step), ("forward only", forward_only)):
        for _ in range(3):
            step()
        if cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        start = time.perf_counter()
        for _ in range(args.steps):
            step()
        if cuda:
            torch.cuda.synchronize()
        seconds = (time.perf_counter() - start) / args.steps
        results[name] = (b / seconds, torch.cuda.max_memory_allocated() / 2**30 if cuda else float("nan"))
    where = torch.cuda.get_device_name() if cuda else "CPU"
    print(f"{where}: {args.clip_model} {args.variant}, batch {b} x {t} frames x {len(cfg.streams)} streams,"
          f" checkpointing {args.checkpointing}")
    for name, (cps, mem) in results.items():
        print(f"{name:<13} {cps:8.1f} clips/s   peak memory {mem:6.1f} GiB")
    print(f"train / forward-only speed: {results['train step'][0] / results['forward only'][0]:.2f}")


if __name__ == "__main__":
    main()
