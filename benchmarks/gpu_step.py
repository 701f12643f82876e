"""Training clips/s, FLOPs per clip, MFU and peak reserved memory of FineCLIPER's training step: today's
eager path and the optimised one, in the same run, and their ratio.

    python benchmarks/gpu_step.py [--clip-model ViT-B-16] [--variant starplus] [--batch-size 32] [--frames 16]
                                  [--steps 20] [--path both|eager|optimised] [--no-eager-checkpointing]
                                  [--checkpoint-share 0.5] [--compile | --no-compile] [--peak-tflops N]

The step as training runs it: `fineclipper.train.engine.train_one_epoch` (forward, loss, backward, gradient
clipping, AdamW, under bf16 autocast on a GPU) over batches of random uint8 clips in host memory, copied to
the device and normalised inside each step. The model is built by `build_model`, as training builds it, with
random frozen weights of the architecture `model.pretrained: openai` loads (QuickGELU where OpenAI's
weights use it): nothing is downloaded, and the speed does not depend on the weights. No TF32: training
does not turn it on.

- eager, today's path: every visual block checkpointed (as the dataset configs; `--no-eager-checkpointing`:
  none), fp32 frozen weights cast by autocast at every call, every token through the last block, unpinned
  host batches, the loss read from the device every step. (The text encoders are checkpointed in neither
  path: the trainer no longer checkpoints them.)
- optimised: the first `--checkpoint-share` of each stream's blocks checkpointed (default half; 0: none),
  torch.compile of the blocks (default: on a GPU), the last block's class token alone, bf16 frozen weights,
  pinned host batches (as the loader pins them on a GPU machine), the loss read every 50 steps.

FLOPs per clip: FlopCounterMode's count of the path's forward, loss and backward without checkpointing (the
model's FLOPs, recomputation not counted), on a copy of the model on the meta device (no memory, no time).
MFU: those FLOPs x clips/s over the device's dense bf16 peak (benchmarks/hardware.py). Without a GPU it
runs on the CPU and says so (a smoke run: `--clip-model FC-Tiny --batch-size 2 --frames 4 --steps 1`).
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import gc

import torch
from hardware import add_peak_argument, count_flops, figures, mfu, peak_tflops, reset_memory, timed

from fineclipper.device import best_device
from fineclipper.model.clip import architecture_options
from fineclipper.train.checkpoint import build_model
from fineclipper.train.engine import model_inputs, optimiser_and_schedule, train_one_epoch

DFEW = ["happiness", "sadness", "neutral", "anger", "surprise", "disgust", "fear"]
WARMUP_STEPS = 3


def openai_quick_gelu(name: str) -> bool | None:
    """Whether ``model.pretrained: openai`` builds ``name`` with QuickGELU; None where it has no such tag."""
    import open_clip

    if "openai" not in open_clip.list_pretrained_tags_by_model(name):
        return None
    return architecture_options(name, "openai")["quick_gelu"]


def host_batch(model, batch_size: int, frames: int, pinned: bool) -> dict:
    """A loader batch of random uint8 clips (every stream), description tokens, labels and keys."""
    size = model.clip.visual.image_size[0]
    batch = {s: torch.randint(0, 256, (batch_size, frames, 3, size, size), dtype=torch.uint8)
             for s in model.cfg.streams}
    batch["description"] = model.tokenize(["the jaw drops and the mouth opens, then back as at the start"] * batch_size)
    batch["label"] = torch.randint(0, len(DFEW), (batch_size,))
    if pinned:
        batch = {k: v.pin_memory() for k, v in batch.items()}
    return {**batch, "key": [f"clip{i}" for i in range(batch_size)]}


def step_flops(model, batch: dict) -> int:
    """FLOPs of one forward, loss and backward of ``model`` on ``batch``, without checkpointing or
    compiling, counted on a copy of the model on the meta device."""
    meta = copy.deepcopy(model).to("meta", dtype=torch.float32)
    meta.cfg = dataclasses.replace(meta.cfg, checkpointing=False, compile=False)
    meta.train()
    inputs = model_inputs(meta, batch, torch.device("meta"))

    def step():
        loss, _ = meta.loss(meta(inputs), inputs["label"])
        loss.backward()

    return count_flops(step)


def measure(name: str, model_cfg: dict, pinned: bool, log_every: int, args, device: torch.device,
            peak: float | None) -> tuple[float, float]:
    """Build the path's model, count its FLOPs, warm it up (compiling), time ``args.steps`` steps; print
    its line and return its clips/s and FLOPs per clip."""
    model = build_model(model_cfg, DFEW, device)
    batch = host_batch(model, args.batch_size, args.frames, pinned)
    flops = step_flops(model, batch)
    train_cfg = {"epochs": 1, "objective": "labels", "grad_clip": 1.0, "lr": 1e-4, "weight_decay": 0.05,
                 "warmup_epochs": 0, "log_every": log_every}
    optimizer, scheduler = optimiser_and_schedule(model, train_cfg, WARMUP_STEPS + args.steps)
    epoch = (model, model, optimizer, scheduler, train_cfg, device)
    warmup = timed_epoch(*epoch, [batch] * WARMUP_STEPS)
    clips_per_s = args.batch_size * args.steps / timed_epoch(*epoch, [batch] * args.steps)
    print(f"{name:<9} train step {figures(flops / args.batch_size, clips_per_s, device, peak, 'clips')}   "
          f"(warm-up {warmup:.1f} s)", flush=True)
    return clips_per_s, flops / args.batch_size


def timed_epoch(model, ddp, optimizer, scheduler, train_cfg: dict, device: torch.device, batches: list) -> float:
    """Seconds of one ``train_one_epoch`` over ``batches``, until the device is done; a new peak-memory window."""
    reset_memory(device)
    return timed(lambda: train_one_epoch(model, ddp, batches, optimizer, scheduler, train_cfg, device, 0,
                                         len(batches), 1, True), device)


def release(device: torch.device) -> None:
    """Hand the last path's memory back, so that the next path's reserved memory is its own."""
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clip-model", default="ViT-B-16")
    parser.add_argument("--variant", default="starplus")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--path", choices=["both", "eager", "optimised"], default="both")
    parser.add_argument("--eager-checkpointing", action=argparse.BooleanOptionalAction, default=True,
                        help="checkpoint every block in the eager path (default, as the dataset configs)")
    parser.add_argument("--checkpoint-share", type=float, default=0.5,
                        help="the share of each stream's blocks the optimised path checkpoints (default 0.5; 0: none)")
    parser.add_argument("--compile", action=argparse.BooleanOptionalAction, default=None,
                        help="torch.compile the optimised path's blocks (default: on a GPU only)")
    add_peak_argument(parser)
    args = parser.parse_args()
    device = best_device()
    cuda = device.type == "cuda"
    if not cuda:
        print("no CUDA device: running on the CPU, so these are not GPU figures (a smoke run)")
    peak = peak_tflops(device, args.peak_tflops)
    compile_blocks = cuda if args.compile is None else args.compile
    base = {"clip_model": args.clip_model, "pretrained": None, "quick_gelu": openai_quick_gelu(args.clip_model),
            "variant": args.variant, "num_frames": args.frames}
    paths = {
        "eager": ({**base, "checkpointing": args.eager_checkpointing, "compile": False,
                   "class_token_only_last_block": False, "frozen_bf16": False}, False, 1),
        "optimised": ({**base, "checkpointing": args.checkpoint_share > 0,
                       "checkpoint_share": args.checkpoint_share or 1.0, "compile": compile_blocks,
                       "class_token_only_last_block": True, "frozen_bf16": True}, cuda, 50),
    }
    where = torch.cuda.get_device_name() if cuda else "CPU"
    print(f"{where} (peak {peak or 'unknown'} TFLOP/s): {args.clip_model} {args.variant}, QuickGELU "
          f"{base['quick_gelu']}, batch {args.batch_size} x {args.frames} frames, {args.steps} timed steps after "
          f"{WARMUP_STEPS}; eager: checkpointing {args.eager_checkpointing}; optimised: checkpointing a share of "
          f"{args.checkpoint_share}, compile {compile_blocks}", flush=True)
    chosen = list(paths) if args.path == "both" else [args.path]
    speeds = {}
    for name in chosen:
        speeds[name] = measure(name, *paths[name], args, device, peak)
        release(device)
    if len(speeds) == 2:
        (fast, _), (slow, eager_flops) = speeds["optimised"], speeds["eager"]
        print(f"optimised / eager: {fast / slow:.2f}x clips/s")
        # the optimised path skips work (the last block's other tokens): its MFU on its own count undersells
        # it; on the eager path's count it is the model's work per second, comparable with the eager line
        utilisation = mfu(eager_flops, fast, peak)
        print(f"optimised at the eager path's {eager_flops / 1e12:.4f} TFLOP/clip: MFU "
              f"{'n/a' if utilisation is None else f'{100 * utilisation:.1f}%'}")


if __name__ == "__main__":
    main()
