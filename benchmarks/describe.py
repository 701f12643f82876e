"""Throughput of the vllm describe stage as it runs, on synthetic clips (JPEG face-crop-sized frames, decoded
and sampled as the stage does), in one process.

As the stage: chunks of the stage's size (``chunk_size``, 250 clips) with its token limit
(``sampling.max_tokens``, 256: ``--fixed-tokens`` makes every description that long, a random model's
length meaning nothing), one ``generate`` call per chunk, the next chunk's requests built in a thread while
the engine generates (``VllmDescriber.prepare``, as ``run_chunks`` does). The engine starts once per describe
job, which covers ``describe.chunks_per_job`` chunks (the vllm backend's 8): the job's videos/s counts that
start spread over its chunks, from the measured start and chunk times; beside it the same for one chunk a
job (as before chunks_per_job).

FLOPs per video: vLLM runs its own kernels (on a GPU in an engine process of its own), which
``FlopCounterMode`` cannot see. They are counted by ``FlopCounterMode`` on Hugging Face's implementation of
the same model (random weights, before the engine starts): one forward over a clip's prompt, its video
tokens as the processor builds them, and its generated tokens, teacher-forced. The linear layers count what
generation computes; attention counts the full square (causal decoding needs half of it: an upper bound).
MFU: those FLOPs per second against the device's dense bf16 peak (benchmarks/hardware.py). Memory: what
the device has in use after the run (vLLM takes ``gpu_memory_utilization`` of it up front for weights,
activations and KV cache), not an allocator peak of this process.

Run it in the vLLM environment (``workflow/envs/vllm-venv.sh``)::

    python benchmarks/describe.py --model Qwen/Qwen2.5-VL-7B-Instruct   # real weights
    python benchmarks/describe.py --arch qwen2.5-vl-7b                  # its architecture, random weights
    python benchmarks/describe.py --arch tiny --clips 16                # CPU (vllm-venv.sh --cpu)
    python benchmarks/describe.py --smoke                               # does it run (tests/test_benchmarks.py)

``--arch`` builds a model folder offline (fineclipper/describe/tiny_vlm.py); the 7B architecture gets
random weights from vLLM (``load_format: dummy``). Without a GPU, vLLM's CPU build runs in this process
(tiny_vlm.CPU_ENV and CPU_ENGINE, which keeps torch.compile unless --engine says otherwise).
Goal on a GPU: >= 1 video/s with 8 frames at 224 px.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hardware import add_peak_argument, count_flops, mfu, peak_tflops  # noqa: E402

from fineclipper.backends import DESCRIBERS  # noqa: E402
from fineclipper.config import SCHEMA as SCHEMA_FILE  # noqa: E402
from fineclipper.describe.tiny_vlm import ARCHITECTURES, CPU_ENGINE, CPU_ENV, build_model_folder  # noqa: E402
from fineclipper.describe.vllm import (  # noqa: E402
    VllmDescriber,
    chat_prompt,
    processor_kwargs,
    prompt_file,
    video_input,
)
from fineclipper.stages.common import read_ahead  # noqa: E402

SCHEMA = yaml.safe_load(SCHEMA_FILE.read_text())["properties"]


def describe_defaults() -> dict:
    """The describe section's defaults from the config schema (nested objects filled one level down)."""
    props = SCHEMA["describe"]["properties"]
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
        clips.append({"id": f"s{seed}c{c:04d}", "jpegs": jpegs, "fps": 25.0, "indices": list(range(stored_frames))})
    return clips


def flops_per_video(cfg: dict, clip: dict, generated: int) -> tuple[int, int]:
    """FLOPs of one clip's description, counted by FlopCounterMode on Hugging Face's implementation of the
    model (random weights; on the GPU if there is one, before vLLM takes its memory): one forward over the
    clip's prompt, built as the describer builds it, and ``generated`` more tokens (teacher-forced). Also
    the prompt's length in tokens, to check against vLLM's."""
    import torch
    from transformers import AutoConfig, AutoModelForImageTextToText, AutoProcessor

    from fineclipper.device import best_device

    device = best_device()
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    processor = AutoProcessor.from_pretrained(cfg["model"])
    with device:
        model = AutoModelForImageTextToText.from_config(AutoConfig.from_pretrained(cfg["model"]), dtype=dtype).eval()
    frames, metadata = video_input(clip, cfg["frames"], cfg["max_pixels"], cfg["fallback_fps"])
    inputs = processor(text=[chat_prompt(processor, prompt_file(cfg).read_text())], videos=[frames],
                       video_metadata=[{k: v for k, v in metadata.items() if k != "do_sample_frames"}],
                       do_sample_frames=False, return_tensors="pt", **processor_kwargs(cfg))
    prompt_tokens = inputs["input_ids"].shape[1]
    answer = torch.full((1, generated), processor.tokenizer.convert_tokens_to_ids("a") or 0)
    inputs["input_ids"] = torch.cat([inputs["input_ids"], answer], 1)
    inputs["attention_mask"] = torch.ones_like(inputs["input_ids"])
    if "mm_token_type_ids" in inputs:
        inputs["mm_token_type_ids"] = torch.cat([inputs["mm_token_type_ids"], torch.zeros_like(answer)], 1)
    inputs = {k: v.to(device) if torch.is_tensor(v) else v for k, v in inputs.items()}
    if "pixel_values_videos" in inputs:
        inputs["pixel_values_videos"] = inputs["pixel_values_videos"].to(dtype)
    with torch.no_grad():
        flops = count_flops(partial(model, **inputs, use_cache=False))
    del model
    if device.type == "cuda":
        torch.cuda.empty_cache()
    return flops, prompt_tokens


def describe_chunks(describer: VllmDescriber, chunks: list[list[dict]]) -> dict:
    """Describe chunk after chunk as the stage does: the first chunk's requests built first, each next one's
    in a thread while the engine describes the current one (stages.common.read_ahead). Seconds of the first
    build and of the chunks, and the token counts."""
    generated = prompt = 0
    started = time.perf_counter()
    for index, building in enumerate(read_ahead(chunks, lambda chunk: [describer.prepare(c) for c in chunk])):
        prepared = building.result()
        if index == 0:  # the first build is timed alone; each next one overlaps the chunk before it
            first_build = time.perf_counter() - started
            started = time.perf_counter()
        describer.describe(prepared)
        generated += describer.last_run["generated_tokens"]
        prompt += describer.last_run["prompt_tokens"]
    seconds = time.perf_counter() - started
    clips = sum(len(chunk) for chunk in chunks)
    return {"first_build": first_build, "chunk_seconds": seconds / len(chunks), "clips_per_chunk": clips / len(chunks),
            "generated_per_clip": generated / clips, "prompt_per_clip": prompt / clips}


def job_videos_per_s(load: float, run: dict, chunks_per_job: int) -> float:
    """Videos/s of a describe job of ``chunks_per_job`` chunks: engine start, first build, then the chunks."""
    return chunks_per_job * run["clips_per_chunk"] / (load + run["first_build"] + chunks_per_job * run["chunk_seconds"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--model", help="a model folder or hub name (real weights)")
    source.add_argument("--arch", choices=sorted(ARCHITECTURES), help="build this architecture offline")
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--max-pixels", type=int, default=224 * 224)
    parser.add_argument("--size", type=int, default=224, help="stored frame size (px)")
    parser.add_argument("--stored-frames", type=int, default=96, help="frames kept per clip by the frames stage")
    parser.add_argument("--clips", type=int, default=SCHEMA["chunk_size"]["default"], help="clips per chunk")
    parser.add_argument("--chunks", type=int, default=2, help="chunks measured (after a warm-up)")
    parser.add_argument("--chunks-per-job", type=int, default=DESCRIBERS["vllm"].chunks_per_job,
                        help="chunks one describe job covers, over which the engine start is spread")
    parser.add_argument("--warmup-clips", type=int, default=8)
    parser.add_argument("--fixed-tokens", type=int,
                        default=SCHEMA["describe"]["properties"]["sampling"]["properties"]["max_tokens"]["default"],
                        help="every description this long; 0: the model decides (up to sampling.max_tokens)")
    parser.add_argument("--engine", type=json.loads, default={}, help="vllm.LLM arguments (JSON) over the defaults")
    add_peak_argument(parser)
    parser.add_argument("--smoke", action="store_true", help="only check that it runs: the tiny model, 2 chunks of "
                        "2 clips of 16 stored frames, 4 tokens each, no torch.compile")
    args = parser.parse_args()
    if args.smoke:
        args.model, args.arch, args.clips, args.chunks, args.warmup_clips, args.stored_frames, args.fixed_tokens = (
            None, "tiny", 2, 2, 1, 16, 4)
        args.engine = {"enforce_eager": True, **args.engine}
    elif not (args.model or args.arch):
        parser.error("one of --model, --arch or --smoke is required")
    import torch

    from fineclipper.device import best_device

    device = best_device()
    device_name = torch.cuda.get_device_name() if device.type == "cuda" else "CPU"
    if device.type == "cpu":
        for name, value in CPU_ENV.items():
            os.environ.setdefault(name, value)
        args.engine = {"distributed_executor_backend": CPU_ENGINE["distributed_executor_backend"], **args.engine}

    cfg = describe_defaults()
    cfg.update(backend="vllm", frames=args.frames, max_pixels=args.max_pixels)
    cfg["engine"].update(args.engine)
    if args.fixed_tokens:
        cfg["sampling"].update(max_tokens=args.fixed_tokens, ignore_eos=True)
        logging.getLogger("fineclipper").setLevel(logging.ERROR)  # every description is cut there: no warnings
    clips = [synthetic_clips(n, args.stored_frames, args.size, seed=seed)
             for seed, n in enumerate([args.warmup_clips] + [args.clips] * args.chunks)]
    with tempfile.TemporaryDirectory() as folder:
        if args.arch:
            cfg["model"] = str(build_model_folder(folder, args.arch))
            if not ARCHITECTURES[args.arch][3]:  # no weight file: vLLM's random weights
                cfg["engine"].setdefault("load_format", "dummy")
        else:
            cfg["model"] = args.model
        # counted before the engine takes the device's memory; for the token limit when descriptions are free
        flops, hf_prompt = flops_per_video(cfg, clips[1][0], cfg["sampling"]["max_tokens"])
        started = time.perf_counter()
        describer = VllmDescriber(cfg)
        load = time.perf_counter() - started
        describer.describe(clips[0])  # warm-up
        run = describe_chunks(describer, clips[1:])
    if device.type == "cuda":
        free, total = torch.cuda.mem_get_info()
        memory = f"{(total - free) / 2**30:.1f} of {total / 2**30:.1f} GiB in use on the device"
    else:
        memory = "n/a (CPU)"

    peak = peak_tflops(device, args.peak_tflops)
    steady = run["clips_per_chunk"] / run["chunk_seconds"]
    job = job_videos_per_s(load, run, args.chunks_per_job)
    single = job_videos_per_s(load, run, 1)
    print(f"model {args.model or args.arch} on {device_name}; engine started in {load:.1f} s; {args.chunks} chunks "
          f"of {args.clips} clips ({args.stored_frames} stored {args.size} px frames, {args.frames} used, max_pixels "
          f"{args.max_pixels}), {'fixed ' + str(args.fixed_tokens) if args.fixed_tokens else 'free'} tokens")
    print(f"  per chunk: {run['chunk_seconds']:.2f} s generating (requests built meanwhile; the first chunk's "
          f"took {run['first_build']:.2f} s), {run['prompt_per_clip']:.0f} prompt tokens (Hugging Face's processor: "
          f"{hf_prompt}) and {run['generated_per_clip']:.0f} generated per clip")
    for name, rate in ((f"describe job of {args.chunks_per_job} chunks, engine start included", job),
                       ("describe job of 1 chunk, engine start included", single),
                       ("chunks after the engine start", steady)):
        utilisation = mfu(flops, rate, peak)
        print(f"  {name:52s} {rate:8.2f} videos/s {rate * run['generated_per_clip']:9.1f} generated tokens/s   "
              f"MFU {'n/a' if utilisation is None else f'{100 * utilisation:.2f}%'}")
    print(f"  {flops / 1e12:.4f} TFLOP/video (FlopCounterMode on Hugging Face's model: the prompt and "
          f"{cfg['sampling']['max_tokens']} generated tokens in one forward); device memory: {memory}")
    if device.type == "cuda":
        print(f"  goal >= 1 video/s per GPU ({args.frames} frames, max_pixels {args.max_pixels}), describe job of "
              f"{args.chunks_per_job} chunks: {'met' if job >= 1.0 else 'not met'}")


if __name__ == "__main__":
    main()
