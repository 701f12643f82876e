"""AIM's temporal adapter on the tiny CLIP: identity at the start, then mixing the frames of one clip (and
only of that clip), with its parameters counted apart."""

import pytest
import torch
from helpers import tiny_model

from fineclipper.model import STREAMS
from fineclipper.model.clip import encode_image


def perturb(module: torch.nn.Module, scale: float = 0.5) -> None:
    gen = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(torch.randn(p.shape, generator=gen) * scale)


def test_zero_initialised_temporal_adapters_change_nothing():
    with_temporal = tiny_model("star", temporal_adapter_streams=STREAMS)
    without = tiny_model("star", temporal_adapter_ratio=0.0)
    images = torch.randn(8, 3, 64, 64)  # two clips of four frames
    with torch.no_grad():
        for stream in STREAMS:
            assert with_temporal.visual_adapters[stream].has_temporal
            assert not without.visual_adapters[stream].has_temporal
            a = encode_image(with_temporal.clip, images, with_temporal.visual_adapters[stream], num_frames=4)
            b = encode_image(without.clip, images, without.visual_adapters[stream], num_frames=4)
            assert torch.equal(a, b)


def test_temporal_adapters_mix_the_frames_of_a_clip_and_only_of_that_clip():
    model = tiny_model("base")
    adapters = model.visual_adapters["frames"]
    perturb(adapters)
    images = torch.randn(8, 3, 64, 64)  # clip 0: images 0-3, clip 1: images 4-7
    changed = images.clone()
    changed[2] += 1.0  # the third frame of the first clip
    with torch.no_grad():
        before = encode_image(model.clip, images, adapters, num_frames=4)
        after = encode_image(model.clip, changed, adapters, num_frames=4)
    assert (before[[0, 1, 3]] - after[[0, 1, 3]]).abs().max() > 1e-3  # other frames of the same clip see it
    assert torch.allclose(before[4:], after[4:], atol=1e-6)  # the other clip does not
    for blk in adapters.blocks:  # without the T-Adapters, the frames of a clip no longer see each other
        blk.temporal = None
    with torch.no_grad():
        spatial_only = [encode_image(model.clip, x, adapters, num_frames=4) for x in (images, changed)]
    assert torch.allclose(spatial_only[0][[0, 1, 3]], spatial_only[1][[0, 1, 3]], atol=1e-6)


def test_temporal_adapters_need_the_frames_per_clip_and_are_counted_apart():
    model = tiny_model("star")
    with pytest.raises(ValueError, match="frames per clip"):
        encode_image(model.clip, torch.randn(4, 3, 64, 64), model.visual_adapters["frames"])
    counts = model.count_parameters()
    width, hidden, blocks, frames = 64, 16, 2, 4  # FC-Tiny, temporal_adapter_ratio 0.25, num_frames 4
    assert counts["visual.frames.temporal"] == blocks * (2 * width * hidden + hidden + width) + frames * width
    assert "visual.parsing.temporal" not in counts and "visual.landmarks.temporal" not in counts
    parts = {k: v for k, v in counts.items() if k not in ("total_tunable", "frozen_clip")}
    tunable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert sum(parts.values()) == counts["total_tunable"] == tunable
