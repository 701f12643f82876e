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
#: How the parsing and landmarks streams are drawn (fineclipper.model.render): over the face frame, as the
#: paper's Fig. 2 shows them, or on a black canvas.
RENDERS = ("overlay", "canvas")
#: The paper's tunable parameters per variant at ViT-B/16, in millions (FineCLIPER, FineCLIPER*, +, *+).
PAPER_TUNABLE_M = {"base": 13, "star": 19, "plus": 14, "starplus": 20}


@dataclass
class ModelConfig:
    clip_model: str = "ViT-B-16"
    pretrained: str | None = "openai"  # a pretrained tag, a local checkpoint path, or None (random)
    # QuickGELU in CLIP's MLPs; None: as the pretrained tag was trained (OpenAI's: yes), for a local path or
    # None the model config's own setting (set true for a local copy of OpenAI's weights)
    quick_gelu: bool | None = None
    variant: str = "starplus"
    num_frames: int = 16
    render: str = "overlay"  # one of RENDERS: parsing colours and landmarks over the face frame, or on black
    # adapter bottlenecks as fractions of the block width
    visual_adapter_ratio: float = 0.125  # spatial and MLP adapters of the frames (low-level) stream
    middle_adapter_ratio: float = 0.03125  # the same for the parsing and landmarks (middle-level) streams
    temporal_adapter_ratio: float = 0.25  # AIM's T-Adapter (0: none), in the streams below
    temporal_adapter_streams: tuple = ("frames",)
    text_adapter_ratio: float = 0.125  # positive and negative label prompts
    description_adapter_ratio: float = 0.0625
    adapter_scale: float = 0.5  # s of the parallel MLP adapter
    temporal_layers: int = 1
    temporal_mlp_ratio: float = 1.0
    n_ctx: int = 0  # learnable context tokens in the label prompts (0: none)
    fuse_description: bool = True  # add the description vector into the video vector (gated, starts at 0)
    align_weight: float = 1.0  # weight of the video-description InfoNCE loss
    prompt: str = "A person with an expression of {label}."
    negative_prompt: str = "A person with an expression of no {label}."
    class_descriptors: dict = field(default_factory=dict)  # label -> sentence appended to both prompts
    # activation checkpointing of the visual streams' blocks: each block's input kept, the block run again in
    # the backward pass; checkpoint_share: the share of each stream's blocks (the first) it covers
    checkpointing: bool = False
    checkpoint_share: float = 1.0
    compile: bool = False  # torch.compile the visual blocks (one graph per block shape); slow to compile on a CPU
    class_token_only_last_block: bool = True  # the last visual block computes only the pooled class token (exact)
    frozen_bf16: bool = True  # on CUDA, the frozen CLIP's matmul weights stored in bf16 once (exact under autocast)

    def __post_init__(self):
        if self.variant not in VARIANTS:
            raise ValueError(f"train.model.variant: {self.variant!r} is not one of {sorted(VARIANTS)}")
        if self.render not in RENDERS:
            raise ValueError(f"train.model.render: {self.render!r} is not one of {list(RENDERS)}")
        if not 0 < self.checkpoint_share <= 1:
            raise ValueError(f"train.model.checkpoint_share: {self.checkpoint_share!r} is not in (0, 1]")
        unknown = sorted(set(self.temporal_adapter_streams) - set(STREAMS))
        if isinstance(self.temporal_adapter_streams, str) or unknown:
            raise ValueError(f"train.model.temporal_adapter_streams: {self.temporal_adapter_streams!r} is not a "
                             f"list of streams {list(STREAMS)}")
        ratios = ("visual_adapter_ratio", "middle_adapter_ratio", "temporal_adapter_ratio", "text_adapter_ratio",
                  "description_adapter_ratio")
        negative = [name for name in ratios if getattr(self, name) < 0]
        if negative:
            raise ValueError(f"train.model: adapter ratios must not be negative: {negative}")

    def stream_spatial_ratio(self, stream: str) -> float:
        """The bottleneck ratio of a visual stream's spatial and MLP adapters."""
        return self.visual_adapter_ratio if stream == "frames" else self.middle_adapter_ratio

    def stream_temporal_ratio(self, stream: str) -> float:
        """The bottleneck ratio of a visual stream's T-Adapters; 0 where it has none."""
        return self.temporal_adapter_ratio if stream in self.temporal_adapter_streams else 0.0

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
