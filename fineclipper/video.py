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
    frames: list[np.ndarray | None]  # RGB uint8, only the kept frames; None where ``jpegs`` holds the frame
    indices: list[int]  # positions of the kept frames in the source
    total: int  # frames in the source
    fps: float
    unreadable: int = 0  # frames that could not be decoded, skipped
    jpegs: list[bytes | None] | None = None  # a frame file's bytes, kept as they are (see ``read_clip``)
    rotation: int = 0  # degrees clockwise that turned the stored frames upright (see ``read_clip``)
    #: frames the source says it holds: a folder's images; a video's frame count in its header, else its
    #: duration times its frame rate (never fewer than it holds)
    declared: int = 0

    @property
    def decoded(self) -> int:
        """Frames of the source that decode (of a folder, only the kept images are read and can fail)."""
        return self.declared - self.unreadable

    @property
    def partial(self) -> bool:
        """Fewer frames decode than the source declares: the clip is what was left of it."""
        return self.unreadable > 0


def describe_frames(used: int, declared: int, decoded: int) -> str:
    """``"11 of 24 (partial: 13 could not be decoded)"``: the frames a clip keeps of those its source declares."""
    note = f"{used} of {declared}"
    return note + (f" (partial: {declared - decoded} could not be decoded)" if decoded < declared else "")


def uniform_indices(total: int, keep: int) -> list[int]:
    """``keep`` indices spread uniformly over ``total`` frames (all of them if there are fewer)."""
    if total <= keep:
        return list(range(total))
    return [int(round(x)) for x in np.linspace(0, total - 1, keep)]


#: EXIF orientation tag value -> (mirrored left to right first, then degrees clockwise) that make the stored
#: image upright, as the EXIF standard defines them (PIL's ``ImageOps.exif_transpose`` does the same).
EXIF_ORIENTATIONS = {1: (False, 0), 2: (True, 0), 3: (False, 180), 4: (True, 180),
                     5: (True, 270), 6: (False, 90), 7: (True, 90), 8: (False, 270)}
EXIF_ORIENTATION_TAG = 0x0112


def upright(frame: np.ndarray, clockwise: int, mirrored: bool = False) -> np.ndarray:
    """A stored frame as it is meant to be seen: mirrored left to right if asked, then turned ``clockwise``
    degrees (a multiple of 90)."""
    if mirrored:
        frame = frame[:, ::-1]
    if clockwise % 360:
        frame = np.rot90(frame, -(clockwise // 90))  # np.rot90 turns counter-clockwise
    return np.ascontiguousarray(frame)


def display_rotation(counter_clockwise: float) -> int:
    """Degrees clockwise (0, 90, 180 or 270) that make upright a video frame whose display matrix rotates it
    ``counter_clockwise`` degrees (PyAV's ``VideoFrame.rotation``; a phone's portrait video: -90)."""
    return int(round(-counter_clockwise / 90)) % 4 * 90


def _frame_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def exif_orientation(data: bytes) -> int:
    """The EXIF orientation (1 to 8) of image file bytes; 1 (stored upright) without one, or for bytes that
    are not an image."""
    import io

    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as im:
            orientation = im.getexif().get(EXIF_ORIENTATION_TAG, 1)
    except OSError:
        return 1
    return orientation if orientation in EXIF_ORIENTATIONS else 1


def reusable_jpeg(data: bytes, size: int) -> bool:
    """Whether image file bytes are a complete colour JPEG of ``size`` x ``size`` stored upright (no EXIF
    orientation to apply): stored as they are, they need no decoding and re-encoding (and lose nothing to a
    second compression)."""
    import io

    from PIL import Image

    if not data.startswith(b"\xff\xd8") or b"\xff\xd9" not in data[-64:]:
        return False
    try:
        with Image.open(io.BytesIO(data)) as im:
            return (im.format == "JPEG" and im.mode == "RGB" and im.size == (size, size)
                    and im.getexif().get(EXIF_ORIENTATION_TAG, 1) == 1)
    except OSError:
        return False


def _read_folder(folder: Path, keep: int, reuse_jpeg_size: int | None = None) -> Clip:
    """The kept frames of a folder of images, each turned upright by its EXIF orientation; an image that
    cannot be decoded is skipped and counted."""
    import cv2

    files = _frame_files(folder)
    if not files:
        raise VideoError(f"frame folder has no images: {folder}")
    kept = uniform_indices(len(files), keep)
    frames, jpegs, indices, rotations = [], [], [], []
    for i in kept:  # only the kept frames are read
        data = files[i].read_bytes()
        if reuse_jpeg_size and reusable_jpeg(data, reuse_jpeg_size):
            frames.append(None)
            jpegs.append(data)
            rotations.append(0)
        elif (bgr := cv2.imdecode(np.frombuffer(data, np.uint8),
                                  cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)) is not None:
            mirrored, clockwise = EXIF_ORIENTATIONS[exif_orientation(data)]
            frames.append(upright(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), clockwise, mirrored))
            jpegs.append(None)
            rotations.append(clockwise)
        else:
            continue
        indices.append(i)
    if not frames:
        raise VideoError(f"no decodable frame image in {folder} ({len(kept)} of its {len(files)} images tried)")
    return Clip(frames, indices, len(files), fps=0.0, unreadable=len(kept) - len(frames), jpegs=jpegs,
                rotation=rotations[0], declared=len(files))


def _read_video(path: Path, keep: int) -> Clip:
    """The kept frames of a video file, holding no other frame in memory: one pass counts the packets
    (no decoding), the second decodes and converts only the kept frames. Packets that cannot be decoded
    are skipped, and frames the header lists (or its duration holds) but the file does not (a truncated
    file) are counted as unreadable. Frames are turned upright as the container's display matrix (a phone's
    rotation tag) says."""
    import av
    from av.video.reformatter import VideoReformatter

    if path.stat().st_size == 0:
        raise VideoError(f"empty video file: {path}")
    frames, indices, seen, bad_packets, rotation = [], [], 0, 0, 0
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise VideoError(f"no video stream in {path}")
            stream = container.streams.video[0]
            fps, listed = float(stream.average_rate or 0.0), stream.frames  # 0 when the header does not say
            duration = (float(stream.duration * stream.time_base) if stream.duration and stream.time_base
                        else (container.duration or 0) / av.time_base)
            total = sum(1 for packet in container.demux(stream) if packet.size)
        wanted = set(uniform_indices(total, keep))
        # One converter for the clip: a frame's own to_ndarray builds a new swscale context per frame, which
        # costs more than decoding (about 1-5 ms a frame at 176x144); a shared one gives the same pixels.
        to_rgb = VideoReformatter()
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for packet in container.demux(stream):
                try:
                    decoded = packet.decode()
                except av.error.InvalidDataError:
                    bad_packets += 1
                    continue
                for frame in decoded:
                    if seen in wanted:
                        rotation = display_rotation(frame.rotation)
                        frames.append(upright(to_rgb.reformat(frame, format="rgb24").to_ndarray(), rotation))
                        indices.append(seen)
                    seen += 1
    except av.FFmpegError as e:
        if not frames:
            raise VideoError(f"cannot decode {path}: {e.strerror or e}") from None  # FFmpeg's message, not its errno
        bad_packets += 1  # the demuxer gave up part-way: keep what was decoded
    if not frames:
        raise VideoError(f"no decodable frames in {path}")
    declared = max(listed or int(duration * fps + 1e-6), seen)  # no count in the header: whole frames of its duration
    return Clip(frames, indices, seen, fps, unreadable=max(bad_packets, declared - seen, len(wanted) - len(frames)),
                rotation=rotation, declared=declared)


def read_clip(source: str | Path, keep: int, reuse_jpeg_size: int | None = None) -> Clip:
    """Read up to ``keep`` uniformly spaced frames of a video file or frame folder.

    Frames come upright: a video's display matrix (the rotation tag phones write) and a frame image's EXIF
    orientation are applied; ``Clip.rotation`` records the degrees clockwise it took (a folder: its first
    kept image's). With ``reuse_jpeg_size``, a frame file that is already a complete, upright JPEG of that
    size is not decoded: its bytes come in ``Clip.jpegs`` (and ``Clip.frames`` holds None there). Frames
    that cannot be decoded are skipped and counted (``Clip.unreadable``; ``Clip.declared`` and
    ``Clip.decoded`` say how much of the source the clip holds, ``Clip.partial`` whether some is missing);
    raises :class:`VideoError` with the reason for a missing or empty source, or one of which nothing decodes.
    """
    path = Path(source)
    if not path.exists():
        raise VideoError(f"missing source: {path}")
    if path.is_dir():
        return _read_folder(path, keep, reuse_jpeg_size)
    return _read_video(path, keep)
