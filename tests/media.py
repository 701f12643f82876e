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


def rotation_tagged(path: Path, upright: np.ndarray, clockwise: int, fps: int = 25) -> Path:
    """A clip as a phone records it: the frames (T, H, W, 3) stored turned ``clockwise`` degrees the other way,
    and the container's display matrix saying to turn them ``clockwise`` degrees to show them. The stored
    frames are encoded with the demo's writer, then the packets are copied into a file that has the tag."""
    import av

    stored = write_clip(path.with_name(f"{path.stem}.untagged.mp4"),
                        np.ascontiguousarray(np.rot90(upright, clockwise // 90, axes=(1, 2))), fps)
    with av.open(str(stored)) as source, av.open(str(path), "w", format="mp4") as target:
        video = source.streams.video[0]
        tagged = target.add_stream_from_template(video)
        tagged.set_display_rotation(-clockwise)  # PyAV counts counter-clockwise
        for packet in source.demux(video):
            if packet.dts is None:  # the demuxer's flush packet
                continue
            packet.stream = tagged
            target.mux(packet)
    return path
