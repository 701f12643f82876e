"""The ``vllm`` describer: a video language model (e.g. Qwen2.5-VL-7B-Instruct) in vLLM's offline engine
describes each clip's face crops, prompted with the paper's prompt.

Each clip becomes one request: ``describe.frames`` face crops spread evenly over its stored frames, each
shrunk to at most ``describe.max_pixels`` pixels, as the video of a user turn that also holds the prompt,
in the model's own chat template. All clips of a chunk go to the engine in one ``generate`` call; the
describe stage builds the next chunk's requests (:meth:`VllmDescriber.prepare`) in a thread meanwhile.

vLLM is imported when the describer is built, so this module imports without it. vLLM lives in an
environment of its own (``workflow/envs/vllm-venv.sh`` or ``workflow/envs/vllm.yaml``); the describe
stage re-runs itself under ``describe.python`` or the job's conda environment.
"""

from __future__ import annotations

import hashlib
import io
import logging
import math
import sys
import time
from pathlib import Path

import numpy as np

from .. import resolve_path

log = logging.getLogger("fineclipper")

SETUP_HELP = ("set up vLLM's own environment and point describe.python at it: `bash workflow/envs/vllm-venv.sh` "
              "prints the interpreter to use; or run Snakemake with --sdm conda (workflow/envs/vllm.yaml)")


def configured_model(cfg: dict) -> str:
    """``describe.model``; a clear error when it is not set."""
    if not cfg.get("model"):
        raise ValueError("describe.model: the vllm backend needs a model, a local folder or a hub name "
                         "(e.g. Qwen/Qwen2.5-VL-7B-Instruct)")
    return cfg["model"]


def prompt_file(cfg: dict) -> Path:
    """``describe.prompt``: a path from the working directory, else from the repository."""
    return resolve_path(cfg["prompt"])


def chosen_frames(count: int, wanted: int) -> list[int]:
    """``wanted`` positions spread evenly over ``count`` stored frames (all of them if there are fewer)."""
    return sorted({int(round(i)) for i in np.linspace(0, count - 1, min(wanted, count))})


def video_input(clip: dict, frames: int, max_pixels: int, fallback_fps: float) -> tuple[np.ndarray, dict]:
    """A clip as vLLM's video input: ``(T, H, W, 3)`` uint8 frames and the metadata the processor needs
    (source frame rate, source frames spanned, the chosen frames' source indices, no resampling)."""
    from PIL import Image

    picked = chosen_frames(len(clip["jpegs"]), frames)
    images = [Image.open(io.BytesIO(clip["jpegs"][i])).convert("RGB") for i in picked]
    width, height = images[0].size
    if width * height > max_pixels:
        scale = math.sqrt(max_pixels / (width * height))
        width, height = max(1, int(width * scale)), max(1, int(height * scale))
        images = [im.resize((width, height), Image.BICUBIC) for im in images]
    fps = float(clip["fps"]) or fallback_fps
    indices = [int(clip["indices"][i]) for i in picked]
    total = int(max(clip["indices"])) + 1
    metadata = {"fps": fps, "total_num_frames": total, "duration": total / fps, "frames_indices": indices,
                "width": width, "height": height, "do_sample_frames": False}
    return np.stack([np.asarray(im) for im in images]), metadata


def processor_kwargs(cfg: dict) -> dict:
    """The arguments of the model's processor: ``describe.engine.mm_processor_kwargs``, else frame size
    bounds. Qwen-VL's video processor upscales frames below its minimum (100k pixels) and caps them at its
    maximum: bound it by ``max_pixels`` so the model sees the frames as we pass them."""
    configured = cfg["engine"].get("mm_processor_kwargs")
    return configured if configured is not None else {"size": {"shortest_edge": 56 * 56,
                                                               "longest_edge": cfg["max_pixels"]}}


def chat_prompt(processor, prompt: str) -> str:
    """The prompt in the model's chat template: a user turn of the video and the prompt, then the answer's
    start."""
    messages = [{"role": "user", "content": [{"type": "video"}, {"type": "text", "text": prompt.strip()}]}]
    return processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)


class VllmDescriber:
    """Describe clips with a video language model in vLLM's offline engine (see the module's doc)."""

    provenance: dict  # set once the engine is built: the model, prompt hash, sampling and vLLM version

    def __init__(self, cfg: dict):
        self.model = configured_model(cfg)
        self.frames, self.max_pixels, self.fallback_fps = cfg["frames"], cfg["max_pixels"], cfg["fallback_fps"]
        prompt = prompt_file(cfg).read_bytes()
        try:
            import vllm
        except ImportError as e:
            raise ImportError(f"describe.backend vllm: vLLM is not installed for {sys.executable}; {SETUP_HELP}") from e
        from transformers import AutoProcessor

        engine = {**cfg["engine"], "mm_processor_kwargs": processor_kwargs(cfg)}
        started = time.perf_counter()
        self.llm = vllm.LLM(model=self.model, **engine)
        log.info("vllm: %s loaded in %.1f s", self.model, time.perf_counter() - started)
        sampling = cfg["sampling"]
        self.sampling = vllm.SamplingParams(**sampling)
        self.chat_prompt = chat_prompt(AutoProcessor.from_pretrained(self.model), prompt.decode())
        self.provenance = {"backend": "vllm", "model": self.model, "prompt_sha256": hashlib.sha256(prompt).hexdigest(),
                           "sampling": sampling, "frames": self.frames, "max_pixels": self.max_pixels,
                           "vllm": vllm.__version__}
        #: Token counts and time of the last :meth:`describe` call.
        self.last_run: dict = {}

    def prepare(self, clip: dict) -> dict:
        """The clip with its request to the engine (``"request"``: the chat prompt and the clip's frames
        decoded and shrunk); the stage prepares the next chunk while the engine describes this one."""
        video = video_input(clip, self.frames, self.max_pixels, self.fallback_fps)
        prepared = {key: value for key, value in clip.items() if key != "jpegs"}  # the frames are in the request
        return {**prepared, "request": {"prompt": self.chat_prompt, "multi_modal_data": {"video": video}}}

    def describe(self, clips: list[dict]) -> list[str]:
        """The model's description of each clip (prepared by :meth:`prepare` or not), from one batched
        ``generate`` call."""
        requests = [(clip if "request" in clip else self.prepare(clip))["request"] for clip in clips]
        started = time.perf_counter()
        outputs = self.llm.generate(requests, self.sampling, use_tqdm=False)
        completions = [out.outputs[0] for out in outputs]
        truncated = [clip["id"] for clip, c in zip(clips, completions) if c.finish_reason == "length"]
        self.last_run = {"clips": len(clips), "seconds": time.perf_counter() - started,
                         "prompt_tokens": sum(len(out.prompt_token_ids) for out in outputs),
                         "generated_tokens": sum(len(c.token_ids) for c in completions), "truncated": len(truncated)}
        log.info("vllm: %(clips)d clips in %(seconds).1f s: %(prompt_tokens)d prompt tokens (video included), "
                 "%(generated_tokens)d generated, %(truncated)d stopped at max_tokens", self.last_run)
        if truncated:
            log.warning("vllm: descriptions cut at sampling.max_tokens=%d: %s", self.sampling.max_tokens,
                        ", ".join(truncated[:10]) + (" ..." if len(truncated) > 10 else ""))
        return [c.text.strip() for c in completions]
