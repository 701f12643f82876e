"""The ``sam`` parser: segment-anything prompted with every face part of a frame at once.

Per clip, the frames go through SAM's image encoder in batches, one embedding per frame. Per frame, each
part of ``PARTS`` becomes a prompt (a box and points from that frame's MediaPipe landmarks); the masks are
painted into the label set in ``PARTS`` order, so later (smaller) parts overwrite earlier ones. Hair, which
the landmark parser cannot see, is prompted with a box above the face. A part whose predicted IoU is below
``iou_threshold`` falls back to its landmark polygon (hair, which has none, is then left out); the counts go
into the clip's ``mask_info``. A frame without landmarks gets an empty map, as with the landmark parser.

Two paths compute this: the fast one (``masks.fast: true``, sam_fast.py: everything on the device, the
prompts of a whole batch of frames decoded together, bf16 weights on a GPU) and the reference
(``masks.fast: false``: segment-anything's own preprocessing on the host, one frame's prompts per decoder
call, the encoder under bf16 autocast on a GPU), which tests and benchmarks/sam.py hold the fast one to.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import numpy as np
import torch

from ..device import best_device
from ..shipped import shipped_path
from .labels import LABEL_INDEX
from .landmarks import part_polygon
from .sam_prompts import PARTS, POLYGON_PARTS, input_size, part_prompts, prompt_arrays

#: Architectures by ``masks.model_type``: segment-anything's three released sizes; other names are JSON
#: files with the same keys in resources/model_configs/sam/ (tiny test models) or a path to one.
SAM_ARCHITECTURES = {
    "vit_b": {"encoder_embed_dim": 768, "encoder_depth": 12, "encoder_num_heads": 12,
              "encoder_global_attn_indexes": [2, 5, 8, 11]},
    "vit_l": {"encoder_embed_dim": 1024, "encoder_depth": 24, "encoder_num_heads": 16,
              "encoder_global_attn_indexes": [5, 11, 17, 23]},
    "vit_h": {"encoder_embed_dim": 1280, "encoder_depth": 32, "encoder_num_heads": 16,
              "encoder_global_attn_indexes": [7, 15, 23, 31]},
}
#: What the three released sizes share (segment-anything's build_sam).
SAM_COMMON = {"image_size": 1024, "patch_size": 16, "window_size": 14, "prompt_embed_dim": 256,
              "decoder_depth": 2, "decoder_mlp_dim": 2048, "decoder_num_heads": 8, "iou_head_hidden_dim": 256}
SAM_CONFIG_DIR = shipped_path("resources/model_configs/sam")


def sam_architecture(model_type: str) -> dict:
    """The architecture of a ``masks.model_type``: a released size or a JSON file (a name in
    resources/model_configs/sam/ or a path)."""
    if model_type in SAM_ARCHITECTURES:
        return {**SAM_COMMON, **SAM_ARCHITECTURES[model_type]}
    path = Path(model_type) if model_type.endswith(".json") else SAM_CONFIG_DIR / f"{model_type}.json"
    if not path.is_file():
        known = sorted(SAM_ARCHITECTURES) + sorted(p.stem for p in SAM_CONFIG_DIR.glob("*.json"))
        raise ValueError(f"masks.model_type: {model_type!r} is none of {known} and no JSON file")
    return {**SAM_COMMON, **json.loads(path.read_text())}


def build_sam(arch: dict):
    """A segment-anything model of this architecture, from segment_anything's own modules, untrained."""
    from segment_anything.modeling import ImageEncoderViT, MaskDecoder, PromptEncoder, Sam, TwoWayTransformer

    size, prompt_dim = arch["image_size"], arch["prompt_embed_dim"]
    grid = size // arch["patch_size"]
    return Sam(
        image_encoder=ImageEncoderViT(
            depth=arch["encoder_depth"], embed_dim=arch["encoder_embed_dim"], img_size=size, mlp_ratio=4,
            norm_layer=partial(torch.nn.LayerNorm, eps=1e-6), num_heads=arch["encoder_num_heads"],
            patch_size=arch["patch_size"], qkv_bias=True, use_rel_pos=True,
            global_attn_indexes=arch["encoder_global_attn_indexes"], window_size=arch["window_size"],
            out_chans=prompt_dim),
        prompt_encoder=PromptEncoder(embed_dim=prompt_dim, image_embedding_size=(grid, grid),
                                     input_image_size=(size, size), mask_in_chans=16),
        mask_decoder=MaskDecoder(
            num_multimask_outputs=3, transformer_dim=prompt_dim, iou_head_depth=3,
            iou_head_hidden_dim=arch["iou_head_hidden_dim"],
            transformer=TwoWayTransformer(depth=arch["decoder_depth"], embedding_dim=prompt_dim,
                                          mlp_dim=arch["decoder_mlp_dim"], num_heads=arch["decoder_num_heads"])),
        pixel_mean=[123.675, 116.28, 103.53], pixel_std=[58.395, 57.12, 57.375])


def load_sam(checkpoint: str | None, model_type: str):
    """SAM of ``model_type`` with the weights of ``checkpoint`` (a state dict, as segment-anything
    publishes them), loaded with ``weights_only=True``; any problem is an error naming the file."""
    if not checkpoint:
        raise ValueError("masks.checkpoint must name a segment-anything checkpoint for masks.parser: sam "
                         "(e.g. sam_vit_b_01ec64.pth from the segment-anything repository)")
    if not Path(checkpoint).is_file():
        raise FileNotFoundError(f"masks.checkpoint: no such file {checkpoint}")
    model = build_sam(sam_architecture(model_type))
    try:
        state = torch.load(checkpoint, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - whatever torch says, the file is the problem
        raise ValueError(f"masks.checkpoint: {checkpoint} is not a readable PyTorch state dict ({e})") from None
    if not isinstance(state, dict):
        raise ValueError(f"masks.checkpoint: {checkpoint} holds a {type(state).__name__}, not a state dict")
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ValueError(f"masks.checkpoint: {checkpoint} does not fit a SAM {model_type} (missing {missing[:3]}, "
                         f"unexpected {unexpected[:3]}, of {len(missing)} and {len(unexpected)})")
    return model.eval().requires_grad_(False)  # inference only


class SamParser:
    """Label maps of a clip from segment-anything, prompted by the landmarks (see the module docstring)."""

    needs_image = True

    def __init__(self, cfg: dict):
        self.cfg = cfg
        self.device = best_device()
        self.sam = load_sam(cfg["checkpoint"], cfg["model_type"]).to(self.device)
        self.threshold = cfg["iou_threshold"]
        self.batch_size = cfg["batch_size"]
        self.fast = None
        if cfg["fast"]:
            from .sam_fast import DeviceSam

            compile_encoder = self.device.type == "cuda" if cfg["compile"] is None else cfg["compile"]
            self.fast = DeviceSam(self.sam, self.device, self.batch_size, self.threshold, compile_encoder)

    @torch.no_grad()
    def embed(self, images: list[np.ndarray]) -> torch.Tensor:
        """Reference: image embeddings of frames (RGB uint8), in batches through the encoder (bf16 autocast on a
        GPU), each frame resized on the host by segment-anything's own transform."""
        size = self.sam.image_encoder.img_size
        embeddings = []
        for start in range(0, len(images), self.batch_size):
            batch = torch.stack([self.input_image(image, size) for image in images[start:start + self.batch_size]])
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=self.device.type == "cuda"):
                embeddings.append(self.sam.image_encoder(self.sam.preprocess(batch.to(self.device))).float())
        return torch.cat(embeddings)

    @staticmethod
    def input_image(image: np.ndarray, size: int) -> torch.Tensor:
        """A frame resized so its longer side is the encoder's input size (SAM's own transform)."""
        from segment_anything.utils.transforms import ResizeLongestSide

        resized = ResizeLongestSide(size).apply_image(image)
        return torch.as_tensor(resized).permute(2, 0, 1).contiguous().float()

    @torch.no_grad()
    def decode(self, embedding: torch.Tensor, prompts: dict,
               shape: tuple[int, int]) -> dict[str, tuple[np.ndarray, float]]:
        """Reference: ``part -> (mask (H, W) bool, predicted IoU)`` for every prompted part of one frame, in one
        call."""
        names = list(prompts)
        size = self.sam.image_encoder.img_size

        def tensor(a):
            return torch.as_tensor(a, dtype=torch.float32, device=self.device)

        boxes, points, labels = (tensor(a) for a in prompt_arrays([prompts[n] for n in names], shape, size))
        sparse, dense = self.sam.prompt_encoder(points=(points, labels), boxes=boxes, masks=None)
        low_res, iou = self.sam.mask_decoder(image_embeddings=embedding[None],
                                             image_pe=self.sam.prompt_encoder.get_dense_pe(),
                                             sparse_prompt_embeddings=sparse, dense_prompt_embeddings=dense,
                                             multimask_output=False)
        inside = self.sam.postprocess_masks(low_res, input_size(shape, size), shape)[:, 0] > self.sam.mask_threshold
        masks = inside.cpu().numpy()
        ious = iou[:, 0].float().cpu().tolist()  # one transfer each, not one per part
        return {n: (masks[i], ious[i]) for i, n in enumerate(names)}

    def reference_label_maps(self, images: list[np.ndarray], landmarks: np.ndarray,
                             shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        """Reference: what :meth:`DeviceSam.label_maps` returns, one frame's prompts per decoder call, painted on
        the host."""
        embeddings = self.embed(images)
        maps = np.zeros((len(images), *shape), np.uint8)
        from_sam = np.zeros((len(images), len(PARTS)), bool)
        for f, points in enumerate(landmarks):
            decoded = self.decode(embeddings[f], part_prompts(points, shape), shape)
            for p, name in enumerate(PARTS):
                mask, iou = decoded.get(name, (None, 0.0))
                from_sam[f, p] = mask is not None and iou >= self.threshold
                if not from_sam[f, p] and name in POLYGON_PARTS:
                    mask = part_polygon(name, points, shape)
                if from_sam[f, p] or name in POLYGON_PARTS:
                    maps[f][mask] = LABEL_INDEX[name]
        return maps, from_sam

    def parse(self, images: list[np.ndarray], landmarks: np.ndarray,
              shape: tuple[int, int]) -> tuple[list[np.ndarray], dict]:
        """Label maps of a clip's frames and the clip's counts: parts from SAM, parts that fell back to
        their landmark polygon, parts left out (hair without a confident SAM mask)."""
        has_face = ~np.isnan(landmarks[:, :, :2]).any(axis=(1, 2))
        faces = [image for image, ok in zip(images, has_face) if ok]
        label_maps = self.fast.label_maps if self.fast else self.reference_label_maps
        maps = np.zeros((len(images), *shape), np.uint8)
        from_sam = np.zeros((0, len(PARTS)), bool)
        if faces:
            maps[has_face], from_sam = label_maps(faces, landmarks[has_face], shape)
        has_polygon = np.array([name in POLYGON_PARTS for name in PARTS])
        counts = {"parts_from_sam": int(from_sam.sum()),
                  "parts_from_polygons": int((~from_sam & has_polygon).sum()),
                  "parts_left_out": int((~from_sam & ~has_polygon).sum()),
                  "frames_without_landmarks": int((~has_face).sum())}
        return list(maps), counts
