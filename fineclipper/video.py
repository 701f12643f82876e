"""Reading clips: video files through PyAV, folders of frame images through Pillow; uniform subsampling."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


class VideoError(Exception):
    """A clip that cannot be used; the message is the reason recorded in the failures table."""


@dataclass
class Clip:
    frames: list[np.ndarray]  # RGB uint8, only the kept frames
    indices: list[int]  # positions of the kept frames in the source
    total: int  # frames in the source
    fps: float


def uniform_indices(total: int, keep: int) -> list[int]:
    """``keep`` indices spread uniformly over ``total`` frames (all of them if there are fewer)."""
    if total <= keep:
        return list(range(total))
    return [int(round(x)) for x in np.linspace(0, total - 1, keep)]


def _frame_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def _read_folder(folder: Path, keep: int) -> Clip:
    import cv2

    files = _frame_files(folder)
    if not files:
        raise VideoError(f"frame folder has no images: {folder}")
    indices = uniform_indices(len(files), keep)
    frames = []
    for i in indices:  # only the kept frames are read
        bgr = cv2.imread(str(files[i]), cv2.IMREAD_COLOR)
        if bgr is None:
            raise VideoError(f"unreadable frame image {files[i]}")
        frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    return Clip(frames, indices, len(files), fps=0.0)


def _read_video(path: Path, keep: int) -> Clip:
    import av

    if path.stat().st_size == 0:
        raise VideoError(f"empty video file: {path}")
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise VideoError(f"no video stream in {path}")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            fps = float(stream.average_rate or 0.0)
            expected = stream.frames  # from the header; 0 when the container does not say
            # Decode once, keeping every frame as a cheap reference; counts from headers are unreliable.
            decoded = [f for f in container.decode(stream)]
    except av.FFmpegError as e:
        raise VideoError(f"cannot decode {path}: {e}") from None
    if not decoded:
        raise VideoError(f"no decodable frames in {path}")
    if expected and len(decoded) < expected - max(2, expected // 20):
        raise VideoError(f"truncated video {path}: decoded {len(decoded)} of the {expected} frames its header lists")
    indices = uniform_indices(len(decoded), keep)
    frames = [decoded[i].to_ndarray(format="rgb24") for i in indices]
    return Clip(frames, indices, len(decoded), fps)


def read_clip(source: str | Path, keep: int) -> Clip:
    """Read up to ``keep`` uniformly spaced frames of a video file or frame folder.

    Raises :class:`VideoError` with the reason for a missing, empty, undecodable or frameless source.
    """
    path = Path(source)
    if not path.exists():
        raise VideoError(f"missing source: {path}")
    if path.is_dir():
        return _read_folder(path, keep)
    return _read_video(path, keep)
