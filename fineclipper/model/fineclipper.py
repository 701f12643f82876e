"""FineCLIPER: frozen CLIP, AIM adapters per visual stream, temporal transformers, adaptive fusion,
positive/negative label prompts and description alignment (our reading of the paper)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .clip import AdapterStack, encode_image, encode_text, load_clip, store_matmul_weights_in, tokenizer
from .config import ModelConfig


class TemporalTransformer(nn.Module):
    """Per-frame class tokens -> one vector: a class token, learned time embeddings, pre-norm layers.

    The frame features are first standardised over the data (BatchNorm): what tells clips apart is a
    small part of frozen CLIP features that mostly describe the same face, and standardising brings
    it out (on the demo a linear probe needs the same step).
    """

    def __init__(self, dim: int, num_frames: int, layers: int, mlp_ratio: float):
        super().__init__()
        self.standardise = nn.BatchNorm1d(dim)
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.time = nn.Parameter(torch.randn(1, num_frames + 1, dim) * 0.02)
        layer = nn.TransformerEncoderLayer(dim, max(1, dim // 64), int(dim * mlp_ratio), dropout=0.0,
                                           activation="gelu", batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.standardise(x.flatten(0, 1).float()).view(x.shape).to(x.dtype)
        x = torch.cat([self.cls.expand(len(x), -1, -1).to(x.dtype), x], 1) + self.time[:, : x.shape[1] + 1].to(x.dtype)
        return self.norm(self.encoder(x)[:, 0])


#: CLIP's cap on its logit scale: ``exp(scale) <= 100``.
MAX_LOG_SCALE = math.log(100)


def clamped_scale(log_scale: torch.Tensor) -> torch.Tensor:
    """``exp(log_scale)``, at most 100 as in CLIP."""
    return log_scale.clamp(max=MAX_LOG_SCALE).exp()


def parameter_part(name: str) -> str:
    """The part of the model a tunable parameter belongs to, for the per-part counts:
    ``visual.<stream>.spatial`` (spatial and MLP adapters), ``visual.<stream>.temporal`` (T-Adapters and
    temporal embedding), ``temporal_transformer.<stream>``, ``text.positive``, ``text.negative``,
    ``description``, ``fusion`` or ``other`` (context, scales, gate)."""
    head, *rest = name.split(".")
    if head == "visual_adapters":
        temporal = rest[1] == "temporal_embedding" or rest[3] == "temporal"
        return f"visual.{rest[0]}.{'temporal' if temporal else 'spatial'}"
    if head == "temporal":
        return f"temporal_transformer.{rest[0]}"
    parts = {"positive_adapters": "text.positive", "negative_adapters": "text.negative",
             "description_adapters": "description", "fusion": "fusion"}
    return parts.get(head, "other")


def info_nce(a: torch.Tensor, b: torch.Tensor, scale: torch.Tensor, same: torch.Tensor | None = None) -> torch.Tensor:
    """Symmetric InfoNCE between matching rows of two normalised batches. ``same`` (``(N, N)`` bool, True
    where two rows carry the same text) keeps repeated texts from counting as each other's negatives: such
    pairs are left out of both softmaxes, each row keeping its own pair as the positive."""
    logits = scale * a @ b.T
    target = torch.arange(len(a), device=a.device)
    if same is not None:
        others = same & ~torch.eye(len(a), dtype=torch.bool, device=a.device)
        logits = logits.masked_fill(others, float("-inf"))
    return (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2


def same_text(tokens: torch.Tensor) -> torch.Tensor:
    """``(N, N)`` bool: which rows of a token batch hold the same text."""
    return (tokens[:, None, :] == tokens[None, :, :]).all(-1)


#: What caption pre-training (``train.objective: captions``) leaves untouched: it reads no label text, so
#: the negative label path and the learnable label context keep their initial values. It trains the visual
#: adapters, temporal transformers and fusion, and the positive text adapters: the path the captions take,
#: and the label texts again at test.
NOT_CAPTION_TRAINED = ("negative_adapters.", "context")
#: What the + variants' description input adds, left out of caption pre-training on the descriptions
#: themselves (``train.captions: describe``): there the description is the target, and as an input too it
#: would be its own answer.
DESCRIPTION_PARTS = ("description_adapters.", "description_gate", "align_logit_scale")


class FineCLIPER(nn.Module):
    """The model. ``image_mean`` / ``image_std``: the normalisation the CLIP weights expect (open_clip's
    preprocessing config of the pretrained tag), as tuples of floats for the data pipeline."""

    def __init__(self, cfg: ModelConfig, class_names: list[str]):
        super().__init__()
        self.cfg = cfg
        self.clip = load_clip(cfg.clip_model, cfg.pretrained, cfg.quick_gelu)
        self.image_mean = tuple(float(v) for v in self.clip.visual.image_mean)
        self.image_std = tuple(float(v) for v in self.clip.visual.image_std)
        self.tokenize = tokenizer(cfg.clip_model)
        dim = self.clip.text_projection.shape[1]
        vblocks, tblocks = self.clip.visual.transformer.resblocks, self.clip.transformer.resblocks
        self.visual_adapters = nn.ModuleDict({
            s: AdapterStack(vblocks, cfg.stream_spatial_ratio(s), cfg.adapter_scale, cfg.stream_temporal_ratio(s),
                            cfg.num_frames)
            for s in cfg.streams})
        self.temporal = nn.ModuleDict(
            {s: TemporalTransformer(dim, cfg.num_frames, cfg.temporal_layers, cfg.temporal_mlp_ratio)
             for s in cfg.streams})
        k = len(cfg.streams)
        self.fusion = nn.Sequential(nn.Linear(k * dim, dim), nn.GELU(), nn.Linear(dim, k)) if k > 1 else None
        self.positive_adapters = AdapterStack(tblocks, cfg.text_adapter_ratio, cfg.adapter_scale)
        self.negative_adapters = AdapterStack(tblocks, cfg.text_adapter_ratio, cfg.adapter_scale)
        width = self.clip.token_embedding.weight.shape[1]
        self.context = nn.Parameter(torch.randn(cfg.n_ctx, width) * 0.02) if cfg.n_ctx else None
        if cfg.descriptions:
            self.description_adapters = AdapterStack(tblocks, cfg.description_adapter_ratio, cfg.adapter_scale)
            self.description_gate = nn.Parameter(torch.zeros(1)) if cfg.fuse_description else None
            # the video-description InfoNCE has its own temperature, initialised as CLIP's
            self.align_logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))
        self.logit_scale = nn.Parameter(self.clip.logit_scale.detach().clone().float())
        self.set_classes(class_names)

    def train(self, mode: bool = True) -> FineCLIPER:
        """Train mode for the adapters and heads; the frozen CLIP always stays in eval mode."""
        super().train(mode)
        self.clip.eval()
        return self

    # ----- label text -----------------------------------------------------------------------------
    def set_classes(self, class_names: list[str], descriptors: dict | None = None) -> None:
        """Build the positive and negative prompts for these classes (zero-shot: another dataset's).

        They are tokenized ``n_ctx`` tokens short of the context length, so that inserting the learnable
        context keeps every prompt's end-of-text token (a long prompt is truncated before it).
        """
        descriptors = self.cfg.class_descriptors if descriptors is None else descriptors
        self.class_names = list(class_names)
        length = self.clip.positional_embedding.shape[0] - self.cfg.n_ctx

        def tokens(template):
            prompts = [" ".join(filter(None, [template.format(label=c), descriptors.get(c, "")])) for c in class_names]
            return self.tokenize(prompts, context_length=length).to(self.logit_scale.device)

        self.register_buffer("positive_tokens", tokens(self.cfg.prompt), persistent=False)
        self.register_buffer("negative_tokens", tokens(self.cfg.negative_prompt), persistent=False)

    def encode_labels(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Normalised positive and negative label vectors, ``(classes, D)`` each."""
        pos = encode_text(self.clip, self.positive_tokens, self.positive_adapters, self.context)
        neg = encode_text(self.clip, self.negative_tokens, self.negative_adapters, self.context)
        return F.normalize(pos, dim=-1), F.normalize(neg, dim=-1)

    # ----- video ----------------------------------------------------------------------------------
    def encode_stream(self, stream: str, clips: torch.Tensor) -> torch.Tensor:
        """``(B, T, 3, H, W)`` -> ``(B, D)`` for one visual stream."""
        b, t = clips.shape[:2]
        cfg = self.cfg
        per_frame = encode_image(self.clip, clips.flatten(0, 1), self.visual_adapters[stream], t, cfg.checkpointing,
                                 cfg.compile, cfg.class_token_only_last_block, cfg.checkpoint_share)
        return self.temporal[stream](per_frame.view(b, t, -1))

    def encode_video(self, batch: dict) -> tuple[torch.Tensor, torch.Tensor]:
        """Fused, normalised video vector and the fusion weights ``(B, streams)``."""
        vectors = torch.stack([F.normalize(self.encode_stream(s, batch[s]), dim=-1) for s in self.cfg.streams], 1)
        if self.fusion is None:
            weights = torch.ones(vectors.shape[:2], device=vectors.device, dtype=vectors.dtype)
        else:
            weights = self.fusion(vectors.flatten(1)).softmax(-1)
        return F.normalize((weights.unsqueeze(-1) * vectors).sum(1), dim=-1), weights

    def encode_descriptions(self, tokens: torch.Tensor) -> torch.Tensor:
        """Normalised description vectors ``(B, D)`` from their tokens."""
        return F.normalize(encode_text(self.clip, tokens, self.description_adapters), dim=-1)

    def encode_captions(self, tokens: torch.Tensor) -> torch.Tensor:
        """Normalised caption vectors ``(B, D)``: captions take the positive label text's path (its adapters),
        the path the label texts take when a caption-pre-trained model is scored."""
        return F.normalize(encode_text(self.clip, tokens, self.positive_adapters), dim=-1)

    def freeze_for(self, objective: str, captions: str | None = None) -> None:
        """Leave out of training what an objective does not use (see :data:`NOT_CAPTION_TRAINED` and
        :data:`DESCRIPTION_PARTS`); ``captions``: caption pre-training's source (describe or dataset)."""
        if objective != "captions":
            return
        unused = NOT_CAPTION_TRAINED + (DESCRIPTION_PARTS if captions == "describe" else ())
        for name, p in self.named_parameters():
            if name.startswith(unused):
                p.requires_grad_(False)

    # ----- the frozen CLIP's precision ------------------------------------------------------------
    def store_frozen_in_bf16(self) -> None:
        """Store the frozen CLIP's matmul weights in bf16 once (see ``store_matmul_weights_in``): the same
        results under bf16 autocast, as the trainer runs on CUDA, without casting them at every call."""
        store_matmul_weights_in(self.clip, torch.bfloat16)

    def check_precision(self, device_type: str) -> None:
        """A model whose frozen weights are bf16 runs only under bf16 autocast: elsewhere, a clear error."""
        stored = self.clip.visual.conv1.weight.dtype
        if stored != torch.float32 and not (torch.is_autocast_enabled(device_type)
                                            and torch.get_autocast_dtype(device_type) == stored):
            raise RuntimeError(f"the frozen CLIP's matmul weights are stored in {stored} (train.model.frozen_bf16 on "
                               f"CUDA): run the model under torch.autocast({device_type!r}, dtype={stored}), as the "
                               "trainer does")

    # ----- scores ---------------------------------------------------------------------------------
    def forward(self, batch: dict, objective: str = "labels",
                label_features: tuple[torch.Tensor, torch.Tensor] | None = None) -> dict:
        """Class scores ``cos(v, t+) - cos(v, t-)``, scaled; plus the vectors the losses need. With
        ``objective="captions"``: the video vector (the description fused in where the batch has one) and
        the caption vector, no label text. ``label_features``: what :meth:`encode_labels` returns, computed
        once for many batches while the weights do not change (evaluation); None: computed here."""
        self.check_precision(self.logit_scale.device.type)
        video, weights = self.encode_video(batch)
        out = {"video": video, "fusion_weights": weights}
        if self.cfg.descriptions and "description" in batch:
            desc = self.encode_descriptions(batch["description"])
            out["description"] = desc
            if self.description_gate is not None:
                video = F.normalize(video + torch.tanh(self.description_gate) * desc, dim=-1)
        if objective == "captions":
            return {**out, "fused": video, "caption": self.encode_captions(batch["caption"])}
        pos, neg = self.encode_labels() if label_features is None else label_features
        out["logits"] = clamped_scale(self.logit_scale) * (video @ pos.T - video @ neg.T)
        return out

    def loss(self, out: dict, labels: torch.Tensor) -> tuple[torch.Tensor, dict]:
        """Cross-entropy of the class scores, plus the weighted video-description InfoNCE when there are
        descriptions; the total and its (detached) parts."""
        ce = F.cross_entropy(out["logits"], labels)
        align, parts = self.description_alignment(out)
        return ce + align, {"ce": ce.detach(), **parts}

    def description_alignment(self, out: dict) -> tuple[torch.Tensor | float, dict]:
        """The weighted video-description InfoNCE of the + variants (0 without descriptions or with one
        clip), and its detached value for the log."""
        if "description" not in out or len(out["video"]) < 2:
            return 0.0, {}
        align = info_nce(out["video"], out["description"], clamped_scale(self.align_logit_scale))
        return self.cfg.align_weight * align, {"align": align.detach()}

    def caption_loss(self, video: torch.Tensor, caption: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        """Symmetric InfoNCE between clips and their captions (rows of the whole batch, every rank's), with
        CLIP's clamped logit scale; clips sharing a caption text are not each other's negatives."""
        return info_nce(video, caption, clamped_scale(self.logit_scale), same_text(tokens))

    # ----- what is trained and saved --------------------------------------------------------------
    def tunable_state_dict(self) -> dict[str, torch.Tensor]:
        """Everything but the frozen CLIP: adapters, temporal transformers, fusion, context, scale."""
        return {k: v for k, v in self.state_dict().items() if not k.startswith("clip.")}

    def load_tunable_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """Load what :meth:`tunable_state_dict` saved; a checkpoint of another architecture is a clear error."""
        missing, unexpected = self.load_state_dict(state, strict=False)
        missing = [k for k in missing if not k.startswith("clip.")]
        if missing or unexpected:
            raise ValueError(f"checkpoint does not fit the model: missing {missing[:5]}, unexpected {unexpected[:5]}")

    def count_parameters(self) -> dict[str, int]:
        """Tunable parameters per part (see :func:`parameter_part`), ``total_tunable`` and ``frozen_clip``."""
        groups: dict[str, int] = {}
        for name, p in self.named_parameters():
            if p.requires_grad:
                key = parameter_part(name)
                groups[key] = groups.get(key, 0) + p.numel()
        groups["total_tunable"] = sum(groups.values())
        groups["frozen_clip"] = sum(p.numel() for p in self.clip.parameters())
        return groups
