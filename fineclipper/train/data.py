"""The WebDataset pipeline: segment sampling, one spatial augmentation for all three streams, only the
sampled frames decoded, true epochs (every training clip once) split by node and worker, equal batches on
every rank."""

from __future__ import annotations

import functools
import glob
import itertools
import logging
import random
import tarfile
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..masks.labels import mirror
from ..model.render import render_streams
from ..shards import decode_sample, iter_raw, num_frames

log = logging.getLogger("fineclipper")

#: Shards a training worker reads at once, taking each next sample from a random one of them.
INTERLEAVED_SHARDS = 4
#: Raw samples in a training worker's shuffle buffer (after the interleaving).
SHUFFLE_BUFFER = 128


def segment_indices(n: int, segments: int, train: bool, rng: np.random.Generator) -> list[int]:
    """One frame per segment of ``n`` stored frames: random in training, the middle one in testing.

    Clips with fewer frames than segments keep every frame and repeat their last one, as DFER-CLIP's
    loader does (it pads the frame indices with the last index)."""
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
    normalises them on its device with :func:`to_device`. The parsing and landmarks streams are drawn as
    ``render`` says (:func:`fineclipper.model.render.render_streams`); with ``overlay`` they are drawn over
    the frames as the frames stream gets them, after the colour jitter: the three encoders see one face, as
    in the paper's Fig. 2 where one video feeds all three, and what the jitter teaches (the face's colours
    do not matter) reaches the two encoders that see the face under the overlay too. The drawn colours
    themselves are not jittered: a part's palette colour is what names it.
    """

    size: int
    segments: int
    train: bool
    streams: tuple[str, ...]
    tokenize: object = None  # description tokenizer, or None when descriptions are not used
    scale: tuple[float, float] = (0.7, 1.0)
    jitter: float = 0.3
    caption_tokenize: object = None  # caption pre-training: the caption tokenizer; None: no caption
    caption_source: str = "describe"  # describe: the description is the caption; dataset: the clip's own caption
    render: str = "overlay"  # see fineclipper.model.config.RENDERS

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
            return out

        def crop_image(image):
            out = crop(image, cv2.INTER_LINEAR)
            return cv2.flip(out, 1) if flip else out

        def crop_labels(label_map):  # flipped, a left eye becomes a right eye
            out = crop(label_map, cv2.INTER_NEAREST)
            return mirror(out) if flip else out

        out = {"label": -1 if sample["label"] is None else sample["label"], "key": sample["key"]}  # -1: unlabelled
        t, s = len(idx), self.size
        frames = np.stack([crop_image(sample["frames"][pos[i]]) for i in idx])  # the overlays' base too
        if self.train and self.jitter:  # one call on the clip seen as a (T*H, W) image
            frames = _jitter(frames.reshape(t * s, s, 3), brightness, contrast, saturation).reshape(t, s, s, 3)
        if "frames" in self.streams:
            out["frames"] = _to_tensor(frames)
        maps = points = None
        if "parsing" in self.streams:
            maps = np.stack([crop_labels(sample["masks"][pos[i]]) for i in idx])
        if "landmarks" in self.streams:
            points = sample["landmarks"][[pos[i] for i in idx], :, :2].astype(np.float32) * (w, h)
            points = (points - (x0, y0)) * (s / cw, s / ch)
            if flip:
                points[..., 0] = s - 1 - points[..., 0]
        for name, images in render_streams(self.render, frames, maps, points).items():
            out[name] = _to_tensor(images)
        if self.tokenize is not None:
            out["description"] = self.tokenize([sample["description"]])[0]
        if self.caption_tokenize is not None:
            caption = sample["caption"] if self.caption_source == "dataset" else sample["description"]
            if caption is None:
                raise ValueError("no caption of its own (caption pre-training with train.captions: dataset reads only "
                                 "clips that have one)")
            out["caption"] = self.caption_tokenize([caption])[0]
        return out


def _jitter(frame: np.ndarray, brightness: float, contrast: float, saturation: float) -> np.ndarray:
    """Colour jitter of a uint8 RGB image (the face frames; colours drawn over them later keep theirs)."""
    import cv2

    mean = float(frame.mean())
    out = cv2.convertScaleAbs(frame, alpha=brightness * contrast, beta=brightness * mean * (1 - contrast))
    grey = cv2.cvtColor(cv2.cvtColor(out, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    return cv2.addWeighted(out, saturation, grey, 1 - saturation, 0)


def _to_tensor(images: np.ndarray) -> torch.Tensor:
    """(T, H, W, 3) uint8 -> (T, 3, H, W) uint8 (a view)."""
    return torch.from_numpy(images).permute(0, 3, 1, 2)


STREAM_KEYS = ("frames", "parsing", "landmarks")


@functools.cache
def _normalisation(mean: tuple, std: tuple, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """``mean`` and ``std`` as (1, 1, 3, 1, 1) tensors on ``device``, made once: a tensor made from host values
    on a GPU is a synchronous copy, which would make every step wait for the one before."""
    return tuple(torch.tensor(v, device=device, dtype=torch.float32).view(1, 1, 3, 1, 1) for v in (mean, std))


def to_device(batch: dict, device: torch.device, mean, std) -> dict:
    """Move a batch to ``device``; image streams become float tensors there, normalised with the CLIP
    model's own ``mean`` and ``std`` (its preprocessing config)."""
    mean, std = _normalisation(tuple(mean), tuple(std), torch.device(device))
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
    for name in (*STREAM_KEYS, "description", "caption"):
        if name in samples[0]:
            batch[name] = torch.stack([s[name] for s in samples])
    return batch


def _decoded(sample) -> bool:
    return sample is not None


def interleave_shards(urls, streams: int, seed: int):
    """Samples of ``streams`` shards read at once, each next sample from a random one of them, so a
    worker mixes several shards (several chunks) before its shuffle buffer does."""

    rng = random.Random(seed)
    urls = iter(urls)

    def next_shard():
        url = next(urls, None)
        return None if url is None else iter_raw(url)

    active = [s for s in (next_shard() for _ in range(streams)) if s is not None]
    while active:
        i = rng.randrange(len(active))
        sample = next(active[i], None)
        if sample is not None:
            yield sample
        elif (replacement := next_shard()) is not None:
            active[i] = replacement
        else:
            active.pop(i)


def shard_samples(shards):
    """The raw samples of each shard a WebDataset shard list yields (``{"url": path}``), read with
    :func:`fineclipper.shards.iter_raw`."""
    for shard in shards:
        yield from iter_raw(shard["url"])


def sample_keys(shard: str) -> list[str]:
    """A shard's sample keys, in stored order, from its tar headers (no image is read)."""
    with tarfile.open(shard) as tar:
        return [name[: -len(".json")] for name in tar.getnames() if name.endswith(".json")]


def epoch_batches(clips: int, world: int, batch_size: int) -> int:
    """Batches every rank takes in a training epoch of ``clips`` clips (see :func:`epoch_shares`)."""
    return -(-clips // (world * batch_size))


def epoch_shares(keys: dict[str, list[str]], seed: int, rank: int, world: int, workers: int,
                 batch_size: int) -> list[dict[str, list[str]]]:
    """What each DataLoader worker of ``rank`` reads in the training epoch of ``seed``: its shards, in the
    epoch's shard order, each with the keys it takes from it (a key listed twice is shown twice).

    The epoch's clips are the shards shuffled by ``seed``, each with its ``keys`` in order. Rank r takes
    the r-th of ``world`` contiguous parts (their sizes differ by one at most), padded to one length by
    repeating its own last clips, so every rank takes the same :func:`epoch_batches` batches (DDP never
    hangs). That length is ceil(clips / world), plus one where it would leave a last batch of one clip while
    batches are larger: a lone clip has no pair for the video-description InfoNCE, and under DDP that
    loss's scale would get no gradient. Within a rank, the workers take contiguous runs of whole batches;
    only the rank's last batch may be partial. So an epoch shows every clip, drops none and repeats fewer
    than 2 x world (parts' last one or two); with one process none, or one when clips % batch_size == 1.
    """
    order = sorted(keys)
    random.Random(seed).shuffle(order)
    clips = [(shard, key) for shard in order for key in keys[shard]]
    if len(clips) < world:
        raise ValueError(f"{len(clips)} training clips for {world} processes: every rank needs one at least")
    part = clips[rank * len(clips) // world:(rank + 1) * len(clips) // world]
    length = -(-len(clips) // world)
    length += int(batch_size > 1 and length % batch_size == 1)
    missing = length - len(part)
    part += part[len(part) - missing:]
    batches, slots = epoch_batches(len(clips), world, batch_size), max(1, workers)
    ends = list(itertools.accumulate(batches // slots + (w < batches % slots) for w in range(slots)))
    shares = []
    for start, end in zip([0, *ends[:-1]], ends):
        share = {}
        for shard, key in part[start * batch_size:end * batch_size]:
            share.setdefault(shard, []).append(key)
        shares.append(share)
    return shares


def shared_samples(share: dict[str, list[str]], seed: int):
    """The raw samples of a worker's ``share`` (see :func:`epoch_shares`), its shards read
    ``INTERLEAVED_SHARDS`` at once; a key listed twice comes twice, a key not found is an error."""
    wanted = Counter((shard, key) for shard, keys in share.items() for key in keys)
    for raw in interleave_shards(share, INTERLEAVED_SHARDS, seed):
        for _ in range(wanted.pop((raw["__url__"], raw["__key__"]), 0)):
            yield raw
    if wanted:
        (shard, key), *_ = wanted
        raise ValueError(f"{shard}: sample {key} is listed but not in the shard ({len(wanted)} such samples)")


def make_loader(shards: list[str], transform: ClipTransform, batch_size: int, workers: int, *, train: bool,
                select=None, keys: dict[str, list[str]] | None = None, seed: int = 0, skip_bad: bool = False,
                rank: int | None = None, world: int | None = None):
    """A WebLoader over ``shards``; ``rank`` and ``world`` default to torch.distributed's (one process: 0, 1).

    Training: one epoch, every clip once (but a few, see :func:`epoch_shares`): the shards' ``keys`` that
    ``select`` keeps (listed from the tar headers when ``keys`` is None) are split over the ranks and
    workers, the shard order reshuffled by ``seed``; each worker reads the shards of its clips
    ``INTERLEAVED_SHARDS`` at once (passing over other workers' samples undecoded) and shuffles its
    samples, and every rank takes :func:`epoch_batches` batches. Evaluation: each shard once,
    split by worker, in order; ``select(key)`` filters samples. A sample that cannot be decoded is an
    error naming its shard, or (``skip_bad``) a warning and skipped; in training the worker then shows its
    last decoded clip once more in its place, so the batch counts hold.
    """
    import webdataset as wds

    if not shards:
        raise ValueError("no shards to read: check the shard patterns and groups")
    distributed = torch.distributed.is_initialized()
    rank = rank if rank is not None else torch.distributed.get_rank() if distributed else 0
    world = world if world is not None else torch.distributed.get_world_size() if distributed else 1

    def worker_id():
        info = torch.utils.data.get_worker_info()
        return info.id if info else 0

    def apply(raw):
        rng = np.random.default_rng([seed, rank, worker_id(), zlib.crc32(raw["__key__"].encode()), apply.calls])
        apply.calls += 1
        try:
            return transform(raw, rng)
        except Exception as e:  # noqa: BLE001 - whatever broke, the shard and sample are what a person needs
            message = (f"{raw.get('__url__', 'a shard')}: sample {raw['__key__']} cannot be decoded "
                       f"({type(e).__name__}: {e})")
            if not skip_bad:
                raise ValueError(message + "; set train.skip_bad_shards: true to skip such samples") from None
            apply.skipped += 1
            log.warning("%s; skipped (%d so far in this worker)", message, apply.skipped)
            return None

    apply.calls = apply.skipped = 0

    def decoded_in_full(raws):
        """Decoded samples, as many as ``raws``: each skipped one is made up for by the last decoded one."""
        last, owed = None, 0
        for raw in raws:
            sample = apply(raw)
            if sample is None:
                owed += 1
            else:
                last = sample
                yield sample
        if owed and last is None:
            raise ValueError(f"none of the {owed} samples this worker read could be decoded (see the warnings)")
        yield from [last] * owed

    if train:
        listed = keys if keys is not None else {shard: sample_keys(shard) for shard in shards}
        kept = {shard: [k for k in listed[shard] if select is None or select(k)] for shard in shards}
        shares = epoch_shares(kept, seed, rank, world, workers, batch_size)
        dataset = wds.DataPipeline(
            lambda: shared_samples(shares[worker_id()], seed * 1000 + rank * 100 + worker_id()),
            wds.shuffle(SHUFFLE_BUFFER, seed=seed + rank), decoded_in_full,
            wds.batched(batch_size, collation_fn=collate, partial=True))
    else:
        # Evaluation runs in one process (rank 0) that reads every shard once: no split across nodes.
        chosen = [wds.select(lambda raw: select(raw["__key__"]))] if select is not None else []
        dataset = wds.DataPipeline(wds.SimpleShardList(shards), wds.split_by_worker, shard_samples,
                                   *chosen, wds.map(apply), wds.select(_decoded),
                                   wds.batched(batch_size, collation_fn=collate, partial=True))
    # pinned batches: the trainer's non_blocking copy to a GPU then runs while the host prepares the next step
    return wds.WebLoader(dataset, batch_size=None, num_workers=workers, pin_memory=torch.cuda.is_available())
