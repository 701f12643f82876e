"""The WebDataset pipeline: segment sampling, one spatial augmentation for all three streams, only the
sampled frames decoded, split by node and worker, equal batches on every rank."""

from __future__ import annotations

import glob
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..model.render import render_landmarks, render_parsing
from ..shards import decode_sample, num_frames

CLIP_MEAN = np.array([0.48145466, 0.4578275, 0.40821073], np.float32)
CLIP_STD = np.array([0.26862954, 0.26130258, 0.27577711], np.float32)


def segment_indices(n: int, segments: int, train: bool, rng: np.random.Generator) -> list[int]:
    """One frame per segment: random in training, the middle one in testing. Clips with fewer frames
    than segments keep every frame and repeat their last one."""
    if n <= segments:
        return list(range(n)) + [n - 1] * (segments - n)
    edges = np.linspace(0, n, segments + 1)
    if train:
        return [int(rng.integers(int(a), max(int(a) + 1, int(b)))) for a, b in zip(edges[:-1], edges[1:])]
    return [int((a + b) / 2) for a, b in zip(edges[:-1], edges[1:])]


def is_validation(key: str, percent: float) -> bool:
    """A fixed, key-hashed share of the training groups held out for model selection."""
    return zlib.crc32(key.encode()) % 10_000 < percent * 100


@dataclass
class ClipTransform:
    """Sample, decode, augment and tensorise one raw shard sample.

    Streams come out as uint8 ``(T, 3, H, W)`` tensors (a quarter of the float size); the trainer
    normalises them on its device with :func:`to_device`.
    """

    size: int
    segments: int
    train: bool
    streams: tuple[str, ...]
    tokenize: object = None  # description tokenizer, or None when descriptions are not used
    scale: tuple[float, float] = (0.7, 1.0)
    jitter: float = 0.3

    def __call__(self, raw: dict, rng: np.random.Generator) -> dict:
        import cv2

        idx = segment_indices(num_frames(raw), self.segments, self.train, rng)
        unique = sorted(set(idx))
        sample = decode_sample(raw, frames=unique)  # only the sampled frames are decoded
        pos = {f: i for i, f in enumerate(unique)}
        h, w = sample["frames"][0].shape[:2]
        # One crop and flip for the whole clip and all streams.
        if self.train:
            area = rng.uniform(*self.scale)
            ratio = np.exp(rng.uniform(np.log(3 / 4), np.log(4 / 3)))
            cw, ch = min(w, int(w * np.sqrt(area * ratio))), min(h, int(h * np.sqrt(area / ratio)))
            x0, y0 = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
            flip = bool(rng.random() < 0.5)
            brightness, contrast, saturation = 1 + rng.uniform(-self.jitter, self.jitter, 3)
        else:
            cw, ch, x0, y0, flip = w, h, 0, 0, False
            brightness = contrast = saturation = 1.0

        def crop(image, interpolation):
            out = image[y0:y0 + ch, x0:x0 + cw]
            if out.shape[:2] != (self.size, self.size):
                out = cv2.resize(out, (self.size, self.size), interpolation=interpolation)
            return cv2.flip(out, 1) if flip else out

        out = {"label": sample["label"], "key": sample["key"]}
        t, s = len(idx), self.size
        if "frames" in self.streams:
            frames = np.stack([crop(sample["frames"][pos[i]], cv2.INTER_LINEAR) for i in idx])
            if self.train and self.jitter:  # one call on the clip seen as a (T*H, W) image
                frames = _jitter(frames.reshape(t * s, s, 3), brightness, contrast, saturation).reshape(t, s, s, 3)
            out["frames"] = _to_tensor(frames)
        if "parsing" in self.streams:
            maps = np.stack([crop(sample["masks"][pos[i]], cv2.INTER_NEAREST) for i in idx])
            out["parsing"] = _to_tensor(render_parsing(maps.reshape(t * s, s)).reshape(t, s, s, 3))
        if "landmarks" in self.streams:
            drawings = []
            for i in idx:
                xy = sample["landmarks"][pos[i], :, :2].astype(np.float32) * (w, h)
                xy = (xy - (x0, y0)) * (self.size / cw, self.size / ch)
                if flip:
                    xy[:, 0] = self.size - 1 - xy[:, 0]
                drawings.append(render_landmarks(xy, self.size))
            out["landmarks"] = _to_tensor(np.stack(drawings))
        if self.tokenize is not None:
            out["description"] = self.tokenize([sample["description"]])[0]
        return out


def _jitter(frame: np.ndarray, brightness: float, contrast: float, saturation: float) -> np.ndarray:
    """Colour jitter of a uint8 RGB image (frames only: masks and landmarks keep their colours)."""
    import cv2

    mean = float(frame.mean())
    out = cv2.convertScaleAbs(frame, alpha=brightness * contrast, beta=brightness * mean * (1 - contrast))
    grey = cv2.cvtColor(cv2.cvtColor(out, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    return cv2.addWeighted(out, saturation, grey, 1 - saturation, 0)


def _to_tensor(images: np.ndarray) -> torch.Tensor:
    """(T, H, W, 3) uint8 -> (T, 3, H, W) uint8 (a view)."""
    return torch.from_numpy(images).permute(0, 3, 1, 2)


STREAM_KEYS = ("frames", "parsing", "landmarks")


def to_device(batch: dict, device: torch.device) -> dict:
    """Move a batch to ``device``; image streams become CLIP-normalised float tensors there."""
    mean = torch.tensor(CLIP_MEAN, device=device).view(1, 1, 3, 1, 1)
    std = torch.tensor(CLIP_STD, device=device).view(1, 1, 3, 1, 1)
    out = {}
    for key, value in batch.items():
        if not isinstance(value, torch.Tensor):
            continue
        value = value.to(device, non_blocking=True)
        out[key] = (value.float() / 255 - mean) / std if key in STREAM_KEYS else value
    return out


def shard_group(path: str) -> str:
    """The group a shard belongs to, from its name ``<group>-NNNN.tar``."""
    return Path(path).name.rsplit("-", 1)[0]


def expand_shards(patterns: list[str], groups: list[str] | None = None) -> list[str]:
    """Shard paths from globs, brace patterns or paths; ``groups`` keeps shards named ``<group>-NNNN.tar``."""
    import braceexpand

    paths = []
    for pattern in patterns:
        for expanded in braceexpand.braceexpand(pattern):
            paths.extend(sorted(glob.glob(expanded)) if any(c in expanded for c in "*?[") else [expanded])
    if groups is not None:
        paths = [p for p in paths if shard_group(p) in groups]
    return paths


def collate(samples: list[dict]) -> dict:
    batch = {"label": torch.tensor([s["label"] for s in samples]), "key": [s["key"] for s in samples]}
    for name in (*STREAM_KEYS, "description"):
        if name in samples[0]:
            batch[name] = torch.stack([s[name] for s in samples])
    return batch


def _every_shard(urls):
    return urls


def make_loader(shards: list[str], transform: ClipTransform, batch_size: int, workers: int, *, train: bool,
                select=None, batches_per_epoch: int | None = None, seed: int = 0):
    """A WebLoader over ``shards``.

    Training: shards resampled with replacement by every worker of every rank, samples shuffled, and
    ``batches_per_epoch`` batches per rank, so every rank takes the same number of steps (DDP never
    hangs). Evaluation: each shard once, split by worker, in order. ``select(key)`` filters samples.
    """
    import webdataset as wds

    if not shards:
        raise ValueError("no shards to read: check the shard patterns and groups")
    rank = torch.distributed.get_rank() if torch.distributed.is_initialized() else 0

    def apply(raw):
        info = torch.utils.data.get_worker_info()
        worker = info.id if info else 0
        rng = np.random.default_rng([seed, rank, worker, zlib.crc32(raw["__key__"].encode()), apply.calls])
        apply.calls += 1
        return transform(raw, rng)

    apply.calls = 0
    if train:
        # Every rank and worker draws shards at random (with replacement): no split needed.
        dataset = wds.WebDataset(shards, resampled=True, seed=seed + rank, shardshuffle=False,
                                 nodesplitter=_every_shard, empty_check=False)
    else:
        # Evaluation runs in one process (rank 0) that reads every shard once: no split across nodes.
        dataset = wds.WebDataset(shards, shardshuffle=False, nodesplitter=_every_shard,
                                 workersplitter=wds.split_by_worker, empty_check=False)
    if select is not None:
        dataset = dataset.select(lambda raw: select(raw["__key__"]))
    if train:
        dataset = dataset.shuffle(200, seed=seed + rank)
    dataset = dataset.map(apply).batched(batch_size, collation_fn=collate, partial=not train)
    loader = wds.WebLoader(dataset, batch_size=None, num_workers=workers, persistent_workers=train and workers > 0)
    if train:
        loader = loader.with_epoch(batches_per_epoch)
    return loader
