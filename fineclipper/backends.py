"""The backends of the masks and describe stages: one registry per stage.

The stage builds its backend from here, the rules read whether it needs a GPU and which environment it
runs in, and a test checks that the config schema's choices are the registry's names. Adding a backend
is one module (a class built from the stage's config section) and one line below.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Backend:
    factory: str  # "module:Class", built as Class(stage_config)
    gpu: bool  # runs on a GPU where there is one: its rule asks for gpu=1
    conda: str | None = None  # the conda environment file (for --sdm conda); None: the workflow's own
    files: tuple[str, ...] = ()  # config keys naming files it reads (a checkpoint, a prompt): inputs of its rule
    mem_mb: int = 0  # host memory it needs beyond the stage's own (a model's weights pass through it)
    chunks_per_job: int = 1  # chunks one job covers by default (a backend slow to load covers several)


#: masks.parser -> backend. A parser has ``needs_image`` and ``parse(images, landmarks, shape) -> (maps, info)``.
MASK_PARSERS = {
    "landmarks": Backend("fineclipper.masks.landmarks:LandmarkParser", gpu=False),
    "sam": Backend("fineclipper.masks.sam:SamParser", gpu=True, files=("checkpoint",)),
}
#: describe.backend -> backend. A describer has ``provenance`` and ``describe(clips) -> texts``.
DESCRIBERS = {
    "landmarks": Backend("fineclipper.describe.landmarks:LandmarkDescriber", gpu=False),
    "vllm": Backend("fineclipper.describe.vllm:VllmDescriber", gpu=True, conda="workflow/envs/vllm.yaml",
                    files=("prompt",), mem_mb=30000,  # a 7B VLM: 16 GB of bf16 weights, vLLM and CUDA
                    chunks_per_job=8),  # one engine start (a minute or two) for 2000 clips at chunk_size 250
}
#: stage -> (config key naming its backend, registry)
REGISTRIES = {"masks": ("parser", MASK_PARSERS), "describe": ("backend", DESCRIBERS)}


def backend_of(stage: str, cfg: dict) -> Backend:
    """The registry entry a stage's config section names; an unknown name is a clear error."""
    key, registry = REGISTRIES[stage]
    name = cfg[key]
    if name not in registry:
        raise ValueError(f"{stage}.{key}: unknown {key} {name!r} (available: {', '.join(sorted(registry))})")
    return registry[name]


def build_backend(stage: str, cfg: dict):
    """The backend object of a stage, built from the stage's config section."""
    module, name = backend_of(stage, cfg).factory.split(":")
    return getattr(importlib.import_module(module), name)(cfg)
