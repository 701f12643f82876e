"""The model's configuration: plain data, importable without torch (the workflow checks it at parse time)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

STREAMS = ("frames", "parsing", "landmarks")
#: The paper's four variants: which visual streams, and whether descriptions are used.
VARIANTS = {
    "base": (("frames",), False),
    "star": (STREAMS, False),
    "plus": (("frames",), True),
    "starplus": (STREAMS, True),
}


@dataclass
class ModelConfig:
    clip_model: str = "ViT-B-16"
    pretrained: str | None = "openai"  # a pretrained tag, a local checkpoint path, or None (random)
    variant: str = "starplus"
    num_frames: int = 16
    visual_adapter_ratio: float = 0.125  # adapter bottleneck as a fraction of the block width
    text_adapter_ratio: float = 0.125
    adapter_scale: float = 0.5  # s of the parallel MLP adapter
    temporal_layers: int = 1
    temporal_mlp_ratio: float = 1.0
    n_ctx: int = 0  # learnable context tokens in the label prompts (0: none)
    fuse_description: bool = True  # add the description vector into the video vector (gated, starts at 0)
    align_weight: float = 1.0  # weight of the video-description InfoNCE loss
    prompt: str = "A person with an expression of {label}."
    negative_prompt: str = "A person with an expression of no {label}."
    class_descriptors: dict = field(default_factory=dict)  # label -> sentence appended to both prompts
    checkpointing: bool = False

    def __post_init__(self):
        if self.variant not in VARIANTS:
            raise ValueError(f"model.variant: {self.variant!r} is not one of {sorted(VARIANTS)}")

    @property
    def streams(self) -> tuple[str, ...]:
        return VARIANTS[self.variant][0]

    @property
    def descriptions(self) -> bool:
        return VARIANTS[self.variant][1]

    def to_dict(self) -> dict:
        return asdict(self)


def check_model_config(cfg: dict) -> ModelConfig:
    """A ``ModelConfig`` from the config's ``train.model`` section; unknown keys are a clear error."""
    known = {f.name for f in fields(ModelConfig)}
    unknown = sorted(set(cfg) - known)
    if unknown:
        raise ValueError(f"train.model: unknown key(s) {unknown}; known: {sorted(known)}")
    return ModelConfig(**cfg)
