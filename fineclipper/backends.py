"""The backends of the masks and describe stages: what each must offer, and one registry per stage.

The stage builds its backend from here, the rules read whether it needs a GPU and which environment it
runs in, and tests check that the config schema's choices are the registry's names and that every
registered class offers its stage's interface (:class:`MaskParser`, :class:`Describer`). Adding a backend
is one module (a class built from the stage's config section) and one line below.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy as np


@runtime_checkable
class MaskParser(Protocol):
    """A ``masks.parser`` backend: face-part label maps of a clip's stored frames."""

    #: Whether :meth:`parse` reads the frames' pixels; when False it is given None and needs only the shape.
    needs_image: bool

    def parse(self, images: list[np.ndarray] | None, landmarks: np.ndarray,
              shape: tuple[int, int]) -> tuple[list[np.ndarray], dict]:
        """One ``(H, W)`` uint8 label map per frame (values index ``masks.LABELS``) from the clip's RGB frames
        and ``(T, 478, 3)`` landmarks, and what the parser reports about the clip (JSON-able)."""


@runtime_checkable
class Describer(Protocol):
    """A ``describe.backend``: text descriptions of the facial movements of clips.

    A clip is a dict with ``id``, ``jpegs`` (JPEG bytes of the face crops), ``landmarks`` (T, 478, 3),
    ``detected`` (T,), ``fps`` and ``indices``."""

    #: What made the texts (backend, model, prompt hash, sampling): stored with every description.
    provenance: dict

    def prepare(self, clip: dict) -> dict:
        """The clip as :meth:`describe` takes it (e.g. frames decoded and shrunk), done in a thread while the
        previous chunk is described."""

    def describe(self, clips: list[dict]) -> list[str]:
        """The raw description of each clip, in order (the leakage filter runs after)."""


@dataclass(frozen=True)
class Backend:
    factory: str  # "module:Class", built as Class(stage_config)
    gpu: bool  # runs on a GPU where there is one: its rule asks for gpu=1
    conda: str | None = None  # the conda environment file (for --sdm conda); None: the workflow's own
    files: tuple[str, ...] = ()  # config keys naming files it reads (a checkpoint, a prompt): inputs of its rule
    mem_mb: int = 0  # host memory it needs beyond the stage's own (a model's weights pass through it)
    chunks_per_job: int = 1  # chunks one job covers by default (a backend slow to load covers several)


#: masks.parser -> backend, a :class:`MaskParser`.
MASK_PARSERS = {
    "landmarks": Backend("fineclipper.masks.landmarks:LandmarkParser", gpu=False),
    "sam": Backend("fineclipper.masks.sam:SamParser", gpu=True, files=("checkpoint",)),
}
#: describe.backend -> backend, a :class:`Describer`.
DESCRIBERS = {
    "landmarks": Backend("fineclipper.describe.landmarks:LandmarkDescriber", gpu=False),
    "vllm": Backend("fineclipper.describe.vllm:VllmDescriber", gpu=True, conda="workflow/envs/vllm.yaml",
                    files=("prompt",), mem_mb=30000,  # a 7B VLM: 16 GB of bf16 weights, vLLM and CUDA
                    chunks_per_job=8),  # one engine start (a minute or two) for 2000 clips at chunk_size 250
}
#: stage -> (config key naming its backend, registry)
REGISTRIES = {"masks": ("parser", MASK_PARSERS), "describe": ("backend", DESCRIBERS)}
#: stage -> the interface its backends offer
INTERFACES = {"masks": MaskParser, "describe": Describer}


def backend_of(stage: str, cfg: dict) -> Backend:
    """The registry entry a stage's config section names; an unknown name is a clear error."""
    key, registry = REGISTRIES[stage]
    name = cfg[key]
    if name not in registry:
        raise ValueError(f"{stage}.{key}: unknown {key} {name!r} (available: {', '.join(sorted(registry))})")
    return registry[name]


def interface_members(interface: type) -> list[str]:
    """The attributes and methods an interface (:class:`MaskParser`, :class:`Describer`) asks for."""
    return [*interface.__annotations__, *(name for name, value in vars(interface).items()
                                         if callable(value) and not name.startswith("_"))]


def backend_class(backend: Backend) -> type:
    """The class a registry entry names (its module imported)."""
    module, name = backend.factory.split(":")
    return getattr(importlib.import_module(module), name)


def build_backend(stage: str, cfg: dict) -> MaskParser | Describer:
    """The backend object of a stage, built from the stage's config section; one that lacks a member of the
    stage's interface is an error naming it."""
    return check_interface(stage, backend_class(backend_of(stage, cfg))(cfg))


def check_interface(stage: str, backend):
    """The backend, if it offers every member of its stage's interface; else an error naming what it lacks."""
    interface = INTERFACES[stage]
    if not isinstance(backend, interface):
        missing = [m for m in interface_members(interface) if not hasattr(backend, m)]
        raise TypeError(f"{stage}: {type(backend).__name__} is not a {interface.__name__} (it lacks {missing})")
    return backend
