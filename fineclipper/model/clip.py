"""Loading the frozen CLIP backbone from open_clip, and running its blocks with adapters."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from .. import REPO_ROOT

MODEL_CONFIG_DIR = REPO_ROOT / "resources" / "model_configs"


def register_local_configs() -> None:
    """Make the JSON model configs in resources/model_configs (tiny test models) known to open_clip."""
    import open_clip

    if MODEL_CONFIG_DIR.is_dir():
        open_clip.add_model_config(MODEL_CONFIG_DIR)


def load_clip(name: str, pretrained: str | None) -> nn.Module:
    """An open_clip CLIP model by name, with a pretrained tag (``openai``), a local checkpoint path, or
    ``None`` for random weights; every parameter frozen.

    Random weights come from a fixed seed: checkpoints hold only the tunable weights, so the frozen
    backbone must be the same every time it is built.
    """
    import open_clip

    register_local_configs()
    if pretrained and not Path(pretrained).exists() and pretrained not in open_clip.list_pretrained_tags_by_model(name):
        raise ValueError(f"model.pretrained: {pretrained!r} is neither a file nor a pretrained tag of {name}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = open_clip.create_model(name, pretrained=pretrained or None)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def tokenizer(name: str):
    import open_clip

    register_local_configs()
    return open_clip.get_tokenizer(name)


class Adapter(nn.Module):
    """Linear down -> GELU -> Linear up; the up-projection starts at zero so training starts from CLIP."""

    def __init__(self, width: int, bottleneck: int, skip: bool):
        super().__init__()
        self.down = nn.Linear(width, bottleneck)
        self.act = nn.GELU()
        self.up = nn.Linear(bottleneck, width)
        self.skip = skip
        nn.init.zeros_(self.up.weight)
        nn.init.zeros_(self.up.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.up(self.act(self.down(x)))
        return x + out if self.skip else out


class BlockAdapters(nn.Module):
    """AIM adapters of one residual block: after attention (with skip) and parallel to the MLP (scaled)."""

    def __init__(self, width: int, bottleneck: int, scale: float):
        super().__init__()
        self.attn = Adapter(width, bottleneck, skip=True)
        self.mlp = Adapter(width, bottleneck, skip=False)
        self.scale = scale


def adapter_stack(blocks: nn.ModuleList, ratio: float, scale: float) -> nn.ModuleList:
    """One :class:`BlockAdapters` per residual block of a (vision or text) transformer."""
    width = blocks[0].ln_1.normalized_shape[0]
    return nn.ModuleList(BlockAdapters(width, max(1, int(width * ratio)), scale) for _ in blocks)


def run_blocks(blocks: nn.ModuleList, x: torch.Tensor, adapters: nn.ModuleList | None,
               attn_mask: torch.Tensor | None = None, checkpointing: bool = False) -> torch.Tensor:
    """The frozen blocks with adapters: ``x + A(Attn(LN1 x))``, then ``x + MLP(LN2 x) + s A'(LN2 x)``."""

    def block_fn(blk, ad, x):
        h = blk.attention(q_x=blk.ln_1(x), attn_mask=attn_mask)
        x = x + blk.ls_1(ad.attn(h) if ad is not None else h)
        y = blk.ln_2(x)
        out = blk.mlp(y)
        if ad is not None:
            out = out + ad.scale * ad.mlp(y)
        return x + blk.ls_2(out)

    for i, blk in enumerate(blocks):
        ad = adapters[i] if adapters is not None else None
        if checkpointing and torch.is_grad_enabled():
            x = torch.utils.checkpoint.checkpoint(block_fn, blk, ad, x, use_reentrant=False)
        else:
            x = block_fn(blk, ad, x)
    return x


def encode_image(clip: nn.Module, images: torch.Tensor, adapters: nn.ModuleList | None,
                 checkpointing: bool = False) -> torch.Tensor:
    """CLIP image features (``B, embed_dim``) with a stream's adapters in the frozen ViT."""
    visual = clip.visual
    x = visual._embeds(images)
    x = run_blocks(visual.transformer.resblocks, x, adapters, checkpointing=checkpointing)
    pooled, _ = visual._pool(x)
    return pooled @ visual.proj if visual.proj is not None else pooled


def encode_text(clip: nn.Module, tokens: torch.Tensor, adapters: nn.ModuleList | None,
                context: torch.Tensor | None = None, checkpointing: bool = False) -> torch.Tensor:
    """CLIP text features with adapters; ``context`` (``n_ctx, width``) is learnable context inserted
    after the start token (CoOp), the prompt then shifting right."""
    x = clip.token_embedding(tokens)
    eot = tokens.argmax(dim=-1)
    if context is not None:
        n = context.shape[0]
        x = torch.cat([x[:, :1], context.unsqueeze(0).expand(len(x), -1, -1).to(x.dtype), x[:, 1:-n]], dim=1)
        eot = eot + n
    x = x + clip.positional_embedding.to(x.dtype)
    x = run_blocks(clip.transformer.resblocks, x, adapters, attn_mask=clip.attn_mask, checkpointing=checkpointing)
    x = clip.ln_final(x)
    pooled = x[torch.arange(len(x), device=x.device), eot]
    return pooled @ clip.text_projection if clip.text_projection is not None else pooled
