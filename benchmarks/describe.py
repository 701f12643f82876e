"""Throughput of the vllm describe backend: videos/s and generated tokens/s of ``VllmDescriber.describe`` on
synthetic clips (JPEG face-crop-sized frames, decoded and sampled as the stage does), in one process.

Three passes on the same engine, in interleaved rounds after a warm-up round, each on clips it has not
seen: the stage's way (all clips in one ``generate`` call), per-clip calls (the stage's fallback when a
batch fails), and the batch with twice the frames. Run it in the vLLM environment
(``workflow/envs/vllm-venv.sh``)::

    python benchmarks/describe.py --model Qwen/Qwen2.5-VL-7B-Instruct   # real weights
    python benchmarks/describe.py --arch qwen2.5-vl-7b                  # its architecture, random weights
    python benchmarks/describe.py --arch tiny --clips 16                # CPU (vllm-venv.sh --cpu)
    python benchmarks/describe.py --smoke                               # does it run (tests/test_benchmarks.py)

``--arch`` builds a model folder offline (fineclipper/describe/tiny_vlm.py); the 7B architecture gets
random weights from vLLM (``load_format: dummy``). Without a GPU, vLLM's CPU build runs in this process
(tiny_vlm.CPU_ENV and CPU_ENGINE, which keeps torch.compile unless --engine says otherwise).
``--fixed-tokens N`` makes every description exactly N tokens long (a random model's length means nothing).
Goal on a GPU: >= 1 video/s with 8 frames at 224 px.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from itertools import count
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fineclipper.describe.tiny_vlm import ARCHITECTURES, CPU_ENGINE, CPU_ENV, build_model_folder  # noqa: E402
from fineclipper.describe.vllm import VllmDescriber  # noqa: E402
from fineclipper.shipped import shipped_path  # noqa: E402


def describe_defaults() -> dict:
    """The describe section's defaults from the config schema (nested objects filled one level down)."""
    schema = yaml.safe_load(shipped_path("workflow/schemas/config.schema.yaml").read_text())
    props = schema["properties"]["describe"]["properties"]
    return {key: {k: v["default"] for k, v in spec["properties"].items()} if "properties" in spec else spec["default"]
            for key, spec in props.items()}


def synthetic_clips(count: int, stored_frames: int, size: int, seed: int = 0) -> list[dict]:
    """Clips as the describe stage loads them: ``stored_frames`` JPEG frames of ``size`` px, 25 fps."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    clips = []
    for c in range(count):
        colour = rng.uniform(60, 200, 3)
        jpegs = []
        for t in range(stored_frames):
            shade = 40 * np.sin(6 * xx + t / 5 + c) * np.cos(5 * yy - t / 7)
            frame = np.clip(colour + shade[..., None] + rng.normal(0, 4, (size, size, 3)), 0, 255).astype(np.uint8)
            data = io.BytesIO()
            Image.fromarray(frame).save(data, "JPEG", quality=90)
            jpegs.append(data.getvalue())
        clips.append({"id": f"clip{c:04d}", "jpegs": jpegs, "fps": 25.0, "indices": list(range(stored_frames))})
    return clips


def interleaved(describer: VllmDescriber, passes: dict[str, tuple[int, Callable[[], list[list[dict]]]]],
                rounds: int) -> dict[str, dict]:
    """Each pass ``name -> (frames, new_batches)`` once per round, after one uncounted warm-up round (load on
    a shared machine hits every pass alike): median seconds of describing every batch of ``new_batches()``
    (new clips each time: vLLM's caches never saw them, as in the stage) and the token counts of a pass."""
    seconds: dict[str, list[float]] = {name: [] for name in passes}
    counts = {}
    for round_ in range(rounds + 1):
        for name, (frames, new_batches) in passes.items():
            describer.frames, batches = frames, new_batches()
            started = time.perf_counter()
            generated = prompt = 0
            for batch in batches:
                describer.describe(batch)
                generated += describer.last_run["generated_tokens"]
                prompt += describer.last_run["prompt_tokens"]
            if round_:
                seconds[name].append(time.perf_counter() - started)
            counts[name] = (sum(len(b) for b in batches), generated, prompt, frames)
    results = {}
    for name, (clips, generated, prompt, frames) in counts.items():
        s = statistics.median(seconds[name])
        results[name] = {"frames": frames, "seconds": s, "videos_per_s": clips / s, "tokens_per_s": generated / s,
                         "generated_per_clip": generated / clips, "prompt_per_clip": prompt / clips}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--model", help="a model folder or hub name (real weights)")
    source.add_argument("--arch", choices=sorted(ARCHITECTURES), help="build this architecture offline")
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--max-pixels", type=int, default=224 * 224)
    parser.add_argument("--size", type=int, default=224, help="stored frame size (px)")
    parser.add_argument("--stored-frames", type=int, default=96, help="frames kept per clip by the frames stage")
    parser.add_argument("--clips", type=int, default=64)
    parser.add_argument("--per-clip", type=int, default=8, help="clips of the per-clip pass (a first part of them)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--fixed-tokens", type=int, default=128,
                        help="every description this long; 0: the model decides")
    parser.add_argument("--engine", type=json.loads, default={}, help="vllm.LLM arguments (JSON) over the defaults")
    parser.add_argument("--smoke", action="store_true", help="only check that it runs: the tiny model, 2 clips of "
                        "16 stored frames, 4 tokens each, one repeat, no torch.compile")
    args = parser.parse_args()
    if args.smoke:
        args.model, args.arch, args.clips, args.per_clip, args.stored_frames, args.repeats, args.fixed_tokens = (
            None, "tiny", 2, 1, 16, 1, 4)
        args.engine = {"enforce_eager": True, **args.engine}
    elif not (args.model or args.arch):
        parser.error("one of --model, --arch or --smoke is required")
    import torch

    device = torch.cuda.get_device_name() if torch.cuda.is_available() else "CPU"
    if device == "CPU":
        for name, value in CPU_ENV.items():
            os.environ.setdefault(name, value)
        args.engine = {"distributed_executor_backend": CPU_ENGINE["distributed_executor_backend"], **args.engine}

    cfg = describe_defaults()
    cfg.update(backend="vllm", frames=args.frames, max_pixels=args.max_pixels)
    cfg["engine"].update(args.engine)
    if args.fixed_tokens:
        cfg["sampling"].update(max_tokens=args.fixed_tokens, ignore_eos=True)
        logging.getLogger("fineclipper").setLevel(logging.ERROR)  # every description is cut there: no warnings
    with tempfile.TemporaryDirectory() as folder:
        if args.arch:
            cfg["model"] = str(build_model_folder(folder, args.arch))
            if not ARCHITECTURES[args.arch][3]:  # no weight file: vLLM's random weights
                cfg["engine"].setdefault("load_format", "dummy")
        else:
            cfg["model"] = args.model
        started = time.perf_counter()
        describer = VllmDescriber(cfg)
        load = time.perf_counter() - started
        seeds = count()

        def clips(n: int) -> list[dict]:
            return synthetic_clips(n, args.stored_frames, args.size, seed=next(seeds))

        r = interleaved(describer, {
            "batched, one generate call": (args.frames, lambda: [clips(args.clips)]),
            "per-clip calls": (args.frames, lambda: [[c] for c in clips(args.per_clip)]),
            f"batched, {2 * args.frames} frames": (2 * args.frames, lambda: [clips(args.clips)]),
        }, args.repeats)

    print(f"model {args.model or args.arch} on {device}; engine loaded in {load:.1f} s; {args.clips} clips of "
          f"{args.stored_frames} stored {args.size} px frames, max_pixels {args.max_pixels}, "
          f"{'fixed ' + str(args.fixed_tokens) if args.fixed_tokens else 'free'} tokens, median of {args.repeats} "
          "interleaved rounds")
    for name, x in r.items():
        print(f"  {name:28s} {x['frames']:3d} frames: {x['videos_per_s']:8.2f} videos/s {x['tokens_per_s']:9.1f} "
              f"generated tokens/s  ({x['prompt_per_clip']:.0f} prompt, {x['generated_per_clip']:.0f} generated "
              f"tokens per clip, {x['seconds']:.2f} s)")
    batched, per_clip, doubled = r.values()
    print(f"  batched / per-clip: {batched['videos_per_s'] / per_clip['videos_per_s']:.2f}x videos/s; "
          f"{args.frames} / {2 * args.frames} frames: {batched['videos_per_s'] / doubled['videos_per_s']:.2f}x")
    if device != "CPU":
        met = batched["videos_per_s"] >= 1.0
        print(f"  goal >= 1 video/s per GPU ({args.frames} frames, max_pixels {args.max_pixels}): "
              f"{'met' if met else 'not met'}")


if __name__ == "__main__":
    main()
