"""Test media made on the spot: real clips written with PyAV, and broken files of each kind."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def write_clip(path: Path, frames: np.ndarray, fps: int = 25, faststart: bool = False) -> Path:
    """Encode RGB frames (T, H, W, 3) with the demo's writer; return the path."""
    from fineclipper.datasets.demo import write_video

    write_video(path, frames, fps, faststart)
    return path


def noise_clip(path: Path, n: int = 12, size: int = 128, seed: int = 0) -> Path:
    """A clip of coloured noise: decodable, but no face."""
    rng = np.random.default_rng(seed)
    return write_clip(path, rng.integers(0, 255, (n, size, size, 3), dtype=np.uint8))


def still_clip(path: Path, image: np.ndarray, n: int) -> Path:
    """``n`` copies of one image as a clip (even-sized)."""
    h, w = image.shape[0] // 2 * 2, image.shape[1] // 2 * 2
    return write_clip(path, np.repeat(image[None, :h, :w], n, 0))


def truncated_copy(source: Path, path: Path, fraction: float = 0.5) -> Path:
    data = source.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data[: int(len(data) * fraction)])
    return path


def frame_folder(path: Path, images: list[np.ndarray]) -> Path:
    from PIL import Image

    path.mkdir(parents=True, exist_ok=True)
    for i, image in enumerate(images):
        Image.fromarray(image).save(path / f"{i:05d}.jpg", quality=92)
    return path
