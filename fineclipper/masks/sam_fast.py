"""The fast path of the ``sam`` parser (``masks.fast: true``, the default): a clip's frames stay on the device.

Per batch of ``masks.batch_size`` frames: one pinned uint8 copy to the device, where the frames are resized
(longest side to the encoder's input size, as segment-anything's ``ResizeLongestSide``), normalised and
padded; the image encoder with bf16 weights on a GPU, its attention through
``F.scaled_dot_product_attention`` with the decomposed relative-position bias as the additive mask, and
``torch.compile``d at a fixed batch shape where ``masks.compile`` says so. Every prompt of every frame of
the batch goes through the mask decoder in one call, the label maps are painted on the device, and one
copy comes back per clip. The reference is segment-anything's own way (``masks.fast: false``, in sam.py);
tests/test_sam.py holds the two to the same masks.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from segment_anything.modeling.image_encoder import Attention, get_rel_pos
from segment_anything.utils.transforms import ResizeLongestSide

from .labels import LABEL_INDEX
from .landmarks import part_polygon
from .sam_prompts import PARTS, POLYGON_PARTS, input_size, part_prompts, prompt_arrays


class SdpaAttention(Attention):
    """segment-anything's image-encoder attention through ``F.scaled_dot_product_attention``: the same weights,
    the decomposed relative-position bias passed as the additive attention mask (as segment-anything-fast
    does), so PyTorch's fused kernels run it instead of a softmax over a materialised score matrix."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, h, w, _ = x.shape
        q, k, v = self.qkv(x).reshape(batch, h * w, 3, self.num_heads, -1).permute(2, 0, 3, 1, 4).unbind(0)
        bias = relative_position_bias(q, self.rel_pos_h, self.rel_pos_w, (h, w)) if self.use_rel_pos else None
        x = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)  # scale: head_dim ** -0.5, as self.scale
        return self.proj(x.view(batch, self.num_heads, h, w, -1).permute(0, 2, 3, 1, 4).reshape(batch, h, w, -1))


def relative_position_bias(q: torch.Tensor, rel_pos_h: torch.Tensor, rel_pos_w: torch.Tensor,
                           size: tuple[int, int]) -> torch.Tensor:
    """The additive ``(B, heads, h*w, h*w)`` bias of segment-anything's ``add_decomposed_rel_pos`` for queries
    ``q`` of shape ``(B, heads, h*w, dim)`` (unscaled, as there)."""
    h, w = size
    batch, heads, _, dim = q.shape
    r_q = q.reshape(batch, heads, h, w, dim)
    rel_h = torch.einsum("bnhwc,hkc->bnhwk", r_q, relative_positions(h, rel_pos_h))
    rel_w = torch.einsum("bnhwc,wkc->bnhwk", r_q, relative_positions(w, rel_pos_w))
    return (rel_h[..., :, None] + rel_w[..., None, :]).reshape(batch, heads, h * w, h * w)


def relative_positions(size: int, table: torch.Tensor) -> torch.Tensor:
    """``(size, size, dim)``: segment-anything's ``get_rel_pos(size, size, table)``, indexed on the table's device
    (theirs indexes with a CPU tensor, a host sync per layer on a GPU) when the table fits the size, as SAM's do."""
    if table.shape[0] != 2 * size - 1:
        return get_rel_pos(size, size, table)  # a table of another size: theirs interpolates it
    positions = torch.arange(size, device=table.device)
    return table[positions[:, None] - positions[None, :] + size - 1]


def use_sdpa_attention(image_encoder: torch.nn.Module) -> None:
    """Switch every attention of a segment-anything image encoder to :class:`SdpaAttention`, in place (the
    class only: the modules keep their parameters)."""
    for module in image_encoder.modules():
        if type(module) is Attention:
            module.__class__ = SdpaAttention


def encoder_input(frames: torch.Tensor, pixel_mean: torch.Tensor, pixel_std: torch.Tensor, size: int) -> torch.Tensor:
    """``(B, 3, size, size)`` float encoder input from ``(B, H, W, 3)`` uint8 frames on the device: resized so
    the longer side is ``size`` (bilinear, antialiased, rounded to whole grey levels as the reference's PIL
    resize to uint8 is), normalised by SAM's mean and std, zero-padded at the bottom and right (``Sam.preprocess``)."""
    height, width = ResizeLongestSide.get_preprocess_shape(frames.shape[1], frames.shape[2], size)
    x = F.interpolate(frames.permute(0, 3, 1, 2).float(), (height, width), mode="bilinear", align_corners=False,
                      antialias=True).round_().clamp_(0, 255)
    return F.pad((x - pixel_mean) / pixel_std, (0, size - width, 0, size - height))


def polygon_masks(landmarks: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``(F, len(PARTS), H, W)`` bool: each part's landmark polygon per frame (hair, which has none: empty)."""
    masks = np.zeros((len(landmarks), len(PARTS), *shape), bool)
    for f, points in enumerate(landmarks):
        for p, name in enumerate(PARTS):
            if name in POLYGON_PARTS:
                masks[f, p] = part_polygon(name, points, shape)
    return masks


class DeviceSam:
    """Label maps of frames that all have landmarks, with the work on ``device`` (see the module docstring)."""

    def __init__(self, sam, device: torch.device, batch_size: int, threshold: float, compile_encoder: bool):
        self.sam, self.device, self.batch_size, self.threshold = sam, device, batch_size, threshold
        self.dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
        sam.image_encoder.to(self.dtype)
        sam.mask_decoder.to(self.dtype)
        use_sdpa_attention(sam.image_encoder)
        self.fixed_batch = compile_encoder  # a compiled encoder sees one batch shape: the last batch is padded
        self.encoder = torch.compile(sam.image_encoder, dynamic=False) if compile_encoder else sam.image_encoder
        self.palette = torch.tensor([0] + [LABEL_INDEX[p] for p in PARTS], dtype=torch.uint8, device=device)

    def to_device(self, array: np.ndarray) -> torch.Tensor:
        """One host-to-device copy, from pinned memory on a GPU (so it runs while the host goes on)."""
        tensor = torch.from_numpy(array)
        if self.device.type != "cuda":
            return tensor
        return tensor.pin_memory().to(self.device, non_blocking=True)

    @torch.no_grad()
    def embed(self, images: list[np.ndarray]) -> torch.Tensor:
        """Image embeddings of one batch of frames (RGB uint8, one size), sent to the device as uint8."""
        frames = np.stack(images)
        if self.fixed_batch and len(frames) < self.batch_size:
            frames = np.concatenate([frames, np.zeros((self.batch_size - len(frames), *frames.shape[1:]), np.uint8)])
        x = encoder_input(self.to_device(frames), self.sam.pixel_mean, self.sam.pixel_std,
                          self.sam.image_encoder.img_size)
        return self.encoder(x.to(self.dtype))[: len(images)]

    @torch.no_grad()
    def decode(self, embeddings: torch.Tensor, landmarks: np.ndarray,
               shape: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
        """SAM's masks ``(F, len(PARTS), H, W)`` bool of every prompted part of a batch of frames, decoded in one
        call, and which of them are confident ``(F, len(PARTS))`` bool (unprompted parts: not)."""
        size = self.sam.image_encoder.img_size
        slots, prompts = [], []
        for f, points in enumerate(landmarks):
            for name, prompt in part_prompts(points, shape).items():
                slots.append(f * len(PARTS) + PARTS.index(name))
                prompts.append(prompt)
        boxes, points, labels = (self.to_device(a.astype(np.float32)) for a in prompt_arrays(prompts, shape, size))
        slots = self.to_device(np.array(slots))
        sparse, dense = self.sam.prompt_encoder(points=(points, labels), boxes=boxes, masks=None)
        # The decoder adds its one image embedding to every prompt's dense embedding; each prompt's own frame is
        # added here instead, with a zero image embedding there (0 + x is x: the same sums, any frame per prompt).
        dense = dense + embeddings[slots // len(PARTS)]
        low_res, iou = self.sam.mask_decoder(
            image_embeddings=embeddings.new_zeros((1, *embeddings.shape[1:])),
            image_pe=self.sam.prompt_encoder.get_dense_pe().to(self.dtype),
            sparse_prompt_embeddings=sparse.to(self.dtype), dense_prompt_embeddings=dense.to(self.dtype),
            multimask_output=False)
        logits = self.sam.postprocess_masks(low_res.float(), input_size(shape, size), shape)[:, 0]
        decoded = logits > self.sam.mask_threshold
        masks = torch.zeros((len(landmarks) * len(PARTS), *shape), dtype=torch.bool, device=self.device)
        masks[slots] = decoded
        confident = torch.zeros(len(landmarks) * len(PARTS), dtype=torch.bool, device=self.device)
        confident[slots] = iou[:, 0] >= self.threshold
        return masks.view(len(landmarks), len(PARTS), *shape), confident.view(len(landmarks), len(PARTS))

    def paint(self, masks: torch.Tensor, from_sam: torch.Tensor, polygons: torch.Tensor) -> torch.Tensor:
        """``(F, H, W)`` uint8 label maps: per part SAM's mask where confident, else its polygon, painted in
        ``PARTS`` order (the last part covering a pixel names it)."""
        chosen = torch.where(from_sam[..., None, None], masks, polygons)
        order = torch.arange(1, len(PARTS) + 1, dtype=torch.uint8, device=self.device)[None, :, None, None]
        return self.palette[(chosen * order).amax(dim=1).long()]

    def label_maps(self, images: list[np.ndarray], landmarks: np.ndarray,
                   shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        """``(F, H, W)`` uint8 label maps of frames that all have landmarks, and ``(F, len(PARTS))`` bool: which
        parts came from SAM. The device's work is queued batch by batch; one copy comes back at the end."""
        maps, from_sam = [], []
        for start in range(0, len(images), self.batch_size):
            batch = slice(start, start + self.batch_size)
            embeddings = self.embed(images[batch])
            polygons = self.to_device(polygon_masks(landmarks[batch], shape))  # made while the encoder runs
            masks, confident = self.decode(embeddings, landmarks[batch], shape)
            maps.append(self.paint(masks, confident, polygons))
            from_sam.append(confident)
        maps, from_sam = torch.cat(maps), torch.cat(from_sam)
        both = torch.cat([maps.flatten(), from_sam.flatten().to(torch.uint8)]).cpu().numpy()
        return both[: maps.numel()].reshape(maps.shape), both[maps.numel():].reshape(from_sam.shape).astype(bool)
