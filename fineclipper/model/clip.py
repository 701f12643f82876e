"""Loading the frozen CLIP backbone from open_clip, and running its blocks with adapters."""

from __future__ import annotations

import json
import logging
import tempfile
import zipfile
from contextlib import contextmanager, nullcontext
from functools import cache
from pathlib import Path

import torch
from torch import nn

from ..shipped import shipped_path

MODEL_CONFIG_DIR = shipped_path("resources/model_configs")
log = logging.getLogger("fineclipper")


@cache
def register_local_configs() -> None:
    """Make the JSON model configs in resources/model_configs (tiny test models) known to open_clip, once: each
    registration rescans every config file, which would put a file back over a checkpoint's architecture."""
    import open_clip

    open_clip.add_model_config(MODEL_CONFIG_DIR)


def names_its_source(name: str) -> bool:
    """Whether an open_clip model name says where its config is (``hf-hub:org/repo``, ``local-dir:/path``)."""
    return ":" in name


def local_architecture(name: str) -> dict | None:
    """The open_clip config of ``name`` when open_clip does not define it itself (FC-Tiny, any config of
    resources/model_configs or added to open_clip), for a checkpoint to record; ``None`` for open_clip's own
    and for a name that says where its config is."""
    import open_clip

    register_local_configs()
    if names_its_source(name) or (Path(open_clip.__file__).parent / "model_configs" / f"{name}.json").is_file():
        return None
    return open_clip.get_model_config(name)


def use_recorded_architecture(name: str, architecture: dict | None, checkpoint: str | Path) -> None:
    """Before a checkpoint's model is built: the CLIP architecture it recorded known to open_clip as ``name``,
    over a config of that name (the checkpoint's weights fit the recorded one). A checkpoint from before they
    were recorded needs ``name`` among open_clip's configs, else a clear error. open_clip reads architectures
    from JSON files only and keeps each once read, so the file is a temporary one."""
    import open_clip

    register_local_configs()
    if architecture is None:
        if not names_its_source(name) and open_clip.get_model_config(name) is None:
            raise ValueError(f"checkpoint {checkpoint}: its CLIP model {name} is no architecture open_clip knows, and "
                             f"the checkpoint (from before checkpoints recorded it) holds none: put {name}.json in "
                             "a checkout's resources/model_configs and load it from there")
        return
    known = open_clip.get_model_config(name)
    if known == architecture:
        return
    if known is not None:
        log.warning("checkpoint %s: its CLIP architecture %s differs from the model config of that name; using the "
                    "checkpoint's", checkpoint, name)
    with tempfile.TemporaryDirectory(prefix="fineclipper-architecture-") as folder:
        path = Path(folder) / f"{name}.json"
        path.write_text(json.dumps(architecture))
        open_clip.add_model_config(path)


def pretrained_tag_config(name: str, pretrained: str | None) -> dict:
    """open_clip's pretrained config for a tag of ``name`` (URL, preprocessing, ``quick_gelu``); ``{}`` for
    ``None`` or a local checkpoint file. Anything else is a clear error."""
    import open_clip

    register_local_configs()
    if not pretrained or Path(pretrained).is_file():
        return {}
    tag_config = open_clip.get_pretrained_cfg(name, pretrained)
    if not tag_config:
        raise ValueError(f"model.pretrained: {pretrained!r} is neither a file nor a pretrained tag of {name} "
                         f"(tags: {open_clip.list_pretrained_tags_by_model(name)})")
    return tag_config


#: What OpenAI's TorchScript archives hold besides the weights (open_clip drops them when it loads one).
OPENAI_ARCHIVE_EXTRAS = ("input_resolution", "context_length", "vocab_size")


def is_torchscript_archive(path: str | Path) -> bool:
    """Whether a checkpoint file is a TorchScript archive, the format OpenAI publishes its CLIP weights in
    (open_clip's ``load_openai_model`` tries ``torch.jit.load`` first); ``torch.save`` and open_clip write
    plain state dicts. The test is torch's own: the zip holds ``constants.pkl``."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return any(name.split("/", 1)[-1] == "constants.pkl" for name in archive.namelist())


def openai_archive_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """The weights of OpenAI's TorchScript archive, without the extras (:data:`OPENAI_ARCHIVE_EXTRAS`), as
    open_clip reads them; a TorchScript archive without those extras is not OpenAI's and a clear error."""
    state = torch.jit.load(str(path), map_location="cpu").state_dict()
    if not all(key in state for key in OPENAI_ARCHIVE_EXTRAS):
        raise ValueError(f"model.pretrained: {path} is a TorchScript archive but not OpenAI's CLIP (it lacks "
                         f"{list(OPENAI_ARCHIVE_EXTRAS)}); save the model's state_dict with torch.save instead")
    return {k: v for k, v in state.items() if k not in OPENAI_ARCHIVE_EXTRAS}


def architecture_options(name: str, pretrained: str | None, quick_gelu: bool | None = None) -> dict:
    """``open_clip.create_model`` keyword arguments that make the architecture fit the weights.

    The activation: ``quick_gelu`` if given, else the tag's (OpenAI's weights were trained with QuickGELU,
    which the plain ``ViT-B-16`` config does not say), else QuickGELU for OpenAI's own TorchScript archive;
    for any other local file (a state dict, which does not say how its weights were trained: open_clip's
    copies of OpenAI's weights are state dicts too) ``quick_gelu`` must be given. Random weights keep the
    model config's own. The image preprocessing (mean, std, ...): the tag's, else open_clip's defaults.
    """
    tag_config = pretrained_tag_config(name, pretrained)
    if quick_gelu is None and tag_config:
        quick_gelu = bool(tag_config.get("quick_gelu", False))
    elif quick_gelu is None and pretrained:
        if not is_torchscript_archive(pretrained):
            raise ValueError(
                f"model.quick_gelu: set it to true or false for the local checkpoint {pretrained}: a state dict "
                f"does not say which activation its weights were trained with (OpenAI's weights, also open_clip's "
                f"copies of them: true; LAION's and most others: false, see open_clip.list_pretrained())")
        quick_gelu = True
    options = {"force_preprocess_cfg": tag_config}
    if quick_gelu is not None:
        options["quick_gelu"] = quick_gelu
    return options


def weights_file(name: str, pretrained: str) -> str:
    """The checkpoint file of a local path or a pretrained tag (downloaded into open_clip's cache on first
    use; a failed download is a clear error naming the tag)."""
    import open_clip

    tag_config = pretrained_tag_config(name, pretrained)
    if not tag_config:
        return pretrained
    try:
        return open_clip.download_pretrained(tag_config)
    except Exception as error:
        raise RuntimeError(
            f"model.pretrained: could not download the {name} weights of tag {pretrained!r} ({error}). Download "
            f"them where there is a network and set model.pretrained to the local checkpoint path.") from error


class _DropMessages(logging.Filter):
    """Drops log records whose message starts with ``prefix``."""

    def __init__(self, prefix: str):
        super().__init__()
        self.prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(self.prefix)


@contextmanager
def _no_random_init_warning():
    """Silence open_clip's "No pretrained weights loaded ... initialized randomly" (logged on the root
    logger) while ``create_model`` runs without weights: ours come after it (a TorchScript archive), or the
    backbone is random on purpose, seeded, and the checkpoint's tunable weights are loaded next."""
    drop = _DropMessages("No pretrained weights loaded for model")
    logging.getLogger().addFilter(drop)
    try:
        yield
    finally:
        logging.getLogger().removeFilter(drop)


def _create_frozen(name: str, weights: str | None, options: dict) -> nn.Module:
    """``open_clip.create_model`` with a fixed seed (the frozen backbone must be the same every time it is
    built: checkpoints hold only the tunable weights), in eval mode with every parameter frozen. OpenAI's
    TorchScript archive, which ``torch.load(..., weights_only=True)`` refuses, is read with ``torch.jit.load``
    as open_clip's ``load_openai_model`` does."""
    import open_clip

    register_local_configs()
    archive = weights is not None and is_torchscript_archive(weights)
    pretrained = None if archive else weights
    with torch.random.fork_rng(devices=[]), _no_random_init_warning() if pretrained is None else nullcontext():
        torch.manual_seed(0)
        model = open_clip.create_model(name, pretrained=pretrained, **options)
    if archive:
        try:
            model.load_state_dict(openai_archive_state_dict(weights))
        except RuntimeError as error:
            raise ValueError(f"model.pretrained: {weights} does not hold weights of model.clip_model {name}: "
                             f"{str(error)[:500]}") from error
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def clip_architecture(name: str, pretrained: str | None, quick_gelu: bool | None = None) -> nn.Module:
    """The frozen CLIP that ``load_clip`` would build, with random weights instead: nothing is downloaded."""
    return _create_frozen(name, None, architecture_options(name, pretrained, quick_gelu))


def load_clip(name: str, pretrained: str | None, quick_gelu: bool | None = None) -> nn.Module:
    """An open_clip CLIP model by name, with a pretrained tag (``openai``), a local checkpoint path (a state
    dict, or OpenAI's TorchScript archive), or ``None`` for random weights (fixed seed); every parameter
    frozen. ``quick_gelu`` as in :func:`architecture_options`."""
    options = architecture_options(name, pretrained, quick_gelu)
    return _create_frozen(name, weights_file(name, pretrained) if pretrained else None, options)


def tokenizer(name: str):
    """open_clip's tokenizer for the model ``name``."""
    import open_clip

    register_local_configs()
    return open_clip.get_tokenizer(name)


def bottleneck(width: int, ratio: float) -> int:
    """An adapter's bottleneck width: ``ratio`` of the block width, at least 1."""
    return max(1, int(width * ratio))


class Adapter(nn.Module):
    """Linear down -> GELU -> Linear up; the up-projection starts at zero so training starts from CLIP."""

    def __init__(self, width: int, hidden: int, skip: bool):
        super().__init__()
        self.down = nn.Linear(width, hidden)
        self.act = nn.GELU()
        self.up = nn.Linear(hidden, width)
        self.skip = skip
        nn.init.zeros_(self.up.weight)
        nn.init.zeros_(self.up.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.up(self.act(self.down(x)))
        return x + out if self.skip else out


class BlockAdapters(nn.Module):
    """AIM adapters of one residual block: after attention (with skip), parallel to the MLP (scaled) and,
    optionally, AIM's T-Adapter after the frozen attention run over time (no skip)."""

    def __init__(self, width: int, hidden: int, scale: float, temporal_hidden: int = 0):
        super().__init__()
        self.attn = Adapter(width, hidden, skip=True)
        self.mlp = Adapter(width, hidden, skip=False)
        self.temporal = Adapter(width, temporal_hidden, skip=False) if temporal_hidden else None
        self.scale = scale


class AdapterStack(nn.Module):
    """One :class:`BlockAdapters` per residual block of a (vision or text) transformer.

    With ``temporal_ratio > 0`` (video only) each block also gets a T-Adapter, and the stack a learnable
    temporal embedding (AIM's; zero at the start) added to every token of frame ``t`` before the blocks.
    """

    def __init__(self, blocks: nn.ModuleList, ratio: float, scale: float, temporal_ratio: float = 0.0,
                 num_frames: int = 0):
        super().__init__()
        width = blocks[0].ln_1.normalized_shape[0]
        temporal_hidden = bottleneck(width, temporal_ratio) if temporal_ratio else 0
        self.blocks = nn.ModuleList(
            BlockAdapters(width, bottleneck(width, ratio), scale, temporal_hidden) for _ in blocks)
        self.temporal_embedding = nn.Parameter(torch.zeros(num_frames, width)) if temporal_ratio else None

    @property
    def has_temporal(self) -> bool:
        return self.temporal_embedding is not None

    def add_temporal_embedding(self, x: torch.Tensor, num_frames: int) -> torch.Tensor:
        """``(B*T, N, D)`` tokens plus the embedding of their frame."""
        embedding = self.temporal_embedding
        if num_frames > len(embedding):
            raise ValueError(f"{num_frames} frames per clip, but the temporal embedding has {len(embedding)}")
        bt, n, d = x.shape
        return (x.view(bt // num_frames, num_frames, n, d) + embedding[:num_frames, None].to(x.dtype)).view(bt, n, d)


def attend_over_time(blk: nn.Module, x: torch.Tensor, num_frames: int) -> torch.Tensor:
    """A block's frozen attention across frames: the tokens at one spatial position of the ``T`` frames
    of a clip attend to each other, ``(B*T, N, D) -> (B*N, T, D) -> attention -> (B*T, N, D)``."""
    bt, n, d = x.shape
    b = bt // num_frames
    over_time = x.view(b, num_frames, n, d).transpose(1, 2).reshape(b * n, num_frames, d)
    out = blk.attention(q_x=over_time)
    return out.view(b, n, num_frames, d).transpose(1, 2).reshape(bt, n, d)


def adapted_block(blk: nn.Module, ad: BlockAdapters | None, x: torch.Tensor, attn_mask: torch.Tensor | None,
                  num_frames: int | None, class_token_only: bool = False) -> torch.Tensor:
    """One frozen block with its adapters (AIM): with a T-Adapter first ``x + T(Attn_time(LN1 x))``; then
    ``x + A(Attn(LN1 x))`` and ``x + MLP(LN2 x) + s A'(LN2 x)``. ``class_token_only``: only the class token
    (the first) comes out, ``(B, 1, D)``: it attends to every token, the rest of the block runs on it alone
    (exact for a last block whose class token is all that is pooled)."""
    if ad is not None and ad.temporal is not None:
        x = x + ad.temporal(attend_over_time(blk, blk.ln_1(x), num_frames))
    y = blk.ln_1(x)
    if class_token_only:
        x, h = x[:, :1], blk.attention(q_x=y[:, :1], k_x=y, v_x=y, attn_mask=attn_mask)
    else:
        h = blk.attention(q_x=y, attn_mask=attn_mask)
    x = x + blk.ls_1(ad.attn(h) if ad is not None else h)
    y = blk.ln_2(x)
    out = blk.mlp(y)
    if ad is not None:
        out = out + ad.scale * ad.mlp(y)
    return x + blk.ls_2(out)


def checkpointed_block(blk: nn.Module, ad: BlockAdapters | None, x: torch.Tensor, attn_mask: torch.Tensor | None,
                       num_frames: int | None, class_token_only: bool, checkpointing: bool) -> torch.Tensor:
    """:func:`adapted_block`; with ``checkpointing``, while gradients are recorded, only its input is kept
    and the block runs again in the backward pass."""
    if not checkpointing or not torch.is_grad_enabled():
        return adapted_block(blk, ad, x, attn_mask, num_frames, class_token_only)
    return torch.utils.checkpoint.checkpoint(adapted_block, blk, ad, x, attn_mask, num_frames, class_token_only,
                                             use_reentrant=False)


#: Recompilations torch.compile allows the block function: a graph per block shape (the frames stream's
#: blocks have T-Adapters, the middle streams' narrower adapters), for the last block's class token, and
#: for a batch of another size (the epoch's last), checkpointed or not, with and without gradients.
BLOCK_RECOMPILE_LIMIT = 32


@cache
def compiled_block():
    """:func:`checkpointed_block` under ``torch.compile``, compiled once per block shape and shared by every
    block of that shape (PyTorch's regional compilation: the blocks' weights are the graph's inputs)."""
    torch._dynamo.config.recompile_limit = max(torch._dynamo.config.recompile_limit, BLOCK_RECOMPILE_LIMIT)
    return torch.compile(checkpointed_block)


def run_blocks(blocks: nn.ModuleList, x: torch.Tensor, adapters: AdapterStack | None,
               attn_mask: torch.Tensor | None = None, checkpointing: bool = False, num_frames: int | None = None,
               compile: bool = False, class_token_only: bool = False, checkpoint_share: float = 1.0) -> torch.Tensor:
    """The frozen blocks with adapters (:func:`adapted_block`); ``num_frames`` is needed with T-Adapters.
    ``checkpointing``: the first ``checkpoint_share`` of the blocks (rounded) checkpointed; ``compile``: each
    block run by :func:`compiled_block`; ``class_token_only``: the last block computes the class token alone."""
    run = compiled_block() if compile else checkpointed_block
    checkpointed = round(checkpoint_share * len(blocks)) if checkpointing else 0
    for i, blk in enumerate(blocks):
        ad = adapters.blocks[i] if adapters is not None else None
        x = run(blk, ad, x, attn_mask, num_frames, class_token_only and i == len(blocks) - 1, i < checkpointed)
    return x


def pools_class_token(visual: nn.Module) -> bool:
    """Whether an open_clip vision tower's features are its class token alone (no attention pooling), so
    that its last block need compute nothing else."""
    return getattr(visual, "attn_pool", None) is None and getattr(visual, "pool_type", None) == "tok"


def encode_image(clip: nn.Module, images: torch.Tensor, adapters: AdapterStack | None,
                 num_frames: int | None = None, checkpointing: bool = False, compile: bool = False,
                 class_token_only: bool = False, checkpoint_share: float = 1.0) -> torch.Tensor:
    """CLIP image features (``B*T, embed_dim``) with a stream's adapters in the frozen ViT; ``images`` are
    the ``T`` consecutive frames of each clip, ``num_frames = T`` (needed with temporal adapters).
    ``checkpointing``, ``checkpoint_share`` and ``compile`` as in :func:`run_blocks`; ``class_token_only``: the
    last block computes the class token alone where that is all the tower pools (:func:`pools_class_token`;
    exact)."""
    temporal = adapters is not None and adapters.has_temporal
    if temporal and (not num_frames or len(images) % num_frames):
        raise ValueError(f"temporal adapters need the frames per clip: {len(images)} images, num_frames={num_frames}")
    visual = clip.visual
    x = visual._embeds(images)
    if temporal:
        x = adapters.add_temporal_embedding(x, num_frames)
    x = run_blocks(visual.transformer.resblocks, x, adapters, checkpointing=checkpointing, num_frames=num_frames,
                   compile=compile, class_token_only=class_token_only and pools_class_token(visual),
                   checkpoint_share=checkpoint_share)
    pooled, _ = visual._pool(x)
    return pooled @ visual.proj if visual.proj is not None else pooled


def embed_prompts(clip: nn.Module, tokens: torch.Tensor, context: torch.Tensor | None = None
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """Token plus position embeddings of prompts and the index of each one's end-of-text token.

    ``context`` (``n_ctx, width``) is learnable context inserted after the start token (CoOp), the prompt
    shifting right: ``tokens`` must then be ``n_ctx`` shorter than the context length (tokenize with
    ``context_length - n_ctx``, so that the tokenizer's truncation keeps the end-of-text token).
    """
    x = clip.token_embedding(tokens)
    eot = tokens.argmax(dim=-1)  # CLIP's end-of-text token has the largest id
    if context is not None:
        x = torch.cat([x[:, :1], context.unsqueeze(0).expand(len(x), -1, -1).to(x.dtype), x[:, 1:]], dim=1)
        eot = eot + len(context)
    context_length = clip.positional_embedding.shape[0]
    if x.shape[1] != context_length:
        n_ctx = 0 if context is None else len(context)
        raise ValueError(f"{tokens.shape[1]} tokens and {n_ctx} context tokens do not make the context length "
                         f"{context_length}: tokenize with context_length={context_length - n_ctx}")
    return x + clip.positional_embedding.to(x.dtype), eot


def encode_text(clip: nn.Module, tokens: torch.Tensor, adapters: AdapterStack | None,
                context: torch.Tensor | None = None) -> torch.Tensor:
    """CLIP text features with adapters, pooled at the end-of-text token; ``context`` as in
    :func:`embed_prompts`. Never checkpointed: a batch of 77-token texts holds a few percent of what one
    visual stream's 16 frames of 197 tokens hold."""
    x, eot = embed_prompts(clip, tokens, context)
    x = run_blocks(clip.transformer.resblocks, x, adapters, attn_mask=clip.attn_mask)
    x = clip.ln_final(x)
    pooled = x[torch.arange(len(x), device=x.device), eot]
    return pooled @ clip.text_projection if clip.text_projection is not None else pooled


def store_matmul_weights_in(clip: nn.Module, dtype: torch.dtype) -> None:
    """Store the frozen CLIP's matmul and convolution weights and biases in ``dtype``, once: autocast to
    ``dtype`` casts them at every call anyway (it caches no cast of a frozen weight), so under it the results
    are the same, bit for bit. Layer norms, embeddings and scales, which autocast leaves in fp32, keep it.
    open_clip's own low-precision conversion picks exactly these tensors."""
    import open_clip

    open_clip.convert_weights_to_lp(clip, dtype)
