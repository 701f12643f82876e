"""Decoding real clips and frame folders; every kind of bad source is a VideoError with a reason."""

import numpy as np
import pytest
from media import frame_folder, noise_clip, still_clip, truncated_copy, write_clip

from fineclipper.video import VideoError, read_clip, uniform_indices


def test_uniform_indices():
    assert uniform_indices(5, 16) == [0, 1, 2, 3, 4]
    idx = uniform_indices(120, 16)
    assert len(idx) == 16 and idx[0] == 0 and idx[-1] == 119 and idx == sorted(set(idx))


def test_read_carphone(carphone):
    clip = read_clip(carphone, 16)
    assert clip.total == 120 and len(clip.frames) == 16 and clip.indices[-1] == 119
    assert clip.frames[0].shape == (144, 176, 3) and clip.frames[0].dtype == np.uint8
    assert clip.fps == pytest.approx(29.97, abs=0.01)


def test_video_frames_are_ffmpegs_own_rgb_conversion(carphone):
    """The clip's shared converter gives exactly the pixels of each frame's own conversion (only faster)."""
    import av

    with av.open(str(carphone)) as container:
        reference = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    clip = read_clip(carphone, len(reference))
    assert clip.indices == list(range(len(reference)))
    assert all(np.array_equal(ours, theirs) for ours, theirs in zip(clip.frames, reference, strict=True))


def test_read_frame_folder(tmp_path, astronaut):
    folder = frame_folder(tmp_path / "clip", [astronaut[::4, ::4]] * 5)
    (folder / "notes.txt").write_text("not a frame")
    clip = read_clip(folder, 3)
    assert clip.total == 5 and clip.indices == [0, 2, 4] and clip.frames[0].shape == (128, 128, 3)


def test_bad_sources(tmp_path, carphone, astronaut):
    (tmp_path / "empty.mp4").write_bytes(b"")
    (tmp_path / "text.mp4").write_text("this is not a video\n" * 50)
    (tmp_path / "nofaces").mkdir()
    (tmp_path / "broken_frames").mkdir()
    (tmp_path / "broken_frames" / "00001.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    truncated_copy(carphone, tmp_path / "truncated.mp4")
    faststart = write_clip(tmp_path / "fast.mp4", np.repeat(astronaut[None, ::4, ::4], 60, 0), faststart=True)
    truncated_copy(faststart, tmp_path / "truncated_faststart.mp4", 0.4)
    cases = {
        "missing.mp4": "missing source", "empty.mp4": "empty video file", "text.mp4": "cannot decode",
        "truncated.mp4": "cannot decode", "truncated_faststart.mp4": "no decodable frames", "nofaces": "has no images",
        "broken_frames": "no decodable frame image",
    }
    for name, reason in cases.items():
        with pytest.raises(VideoError, match=reason) as err:
            read_clip(tmp_path / name, 8)
        assert name in str(err.value)


def test_noise_and_still_clips_decode(tmp_path, astronaut):
    assert read_clip(noise_clip(tmp_path / "noise.mp4"), 8).total == 12
    assert read_clip(still_clip(tmp_path / "still.mp4", astronaut[::2, ::2], 3), 8).total == 3


def test_undecodable_frames_are_skipped_and_counted(tmp_path, astronaut):
    """A clip keeps what decodes: a frame folder with broken images, a video cut short."""
    images = [np.roll(astronaut[::4, ::4], 3 * i, axis=1) for i in range(6)]
    folder = frame_folder(tmp_path / "clip", images)
    for i in (1, 4):
        (folder / f"{i:05d}.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    clip = read_clip(folder, 16)
    assert clip.indices == [0, 2, 3, 5] and clip.unreadable == 2 and clip.total == 6
    assert np.abs(clip.frames[1].astype(int) - images[2]).mean() < 8  # frame 2 is where it belongs
    video = write_clip(tmp_path / "fast.mp4", np.repeat(astronaut[None, ::4, ::4], 60, 0), faststart=True)
    clip = read_clip(truncated_copy(video, tmp_path / "cut.mp4", 0.9), 64)
    assert 0 < clip.total < 60 and clip.unreadable == 60 - clip.total and len(clip.frames) == clip.total
