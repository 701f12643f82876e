"""Building the frozen CLIP as its weights need it: QuickGELU for OpenAI's, the tag's image normalisation,
and a clear error when a tag's weights cannot be downloaded. Nothing is downloaded: architectures are
built with random weights."""

import open_clip
import pytest
import torch
from open_clip.transformer import QuickGELU

from fineclipper.model import FineCLIPER, ModelConfig
from fineclipper.model.clip import clip_architecture, load_clip


def activations(clip) -> set[type]:
    """The activation classes of every MLP in both towers."""
    blocks = [*clip.visual.transformer.resblocks, *clip.transformer.resblocks]
    return {type(blk.mlp.gelu) for blk in blocks}


def test_openai_weights_get_quick_gelu_and_laion_weights_gelu():
    assert activations(clip_architecture("ViT-B-16", "openai")) == {QuickGELU}
    assert activations(clip_architecture("ViT-B-16", "laion2b_s34b_b88k")) == {torch.nn.GELU}


def test_quick_gelu_setting_overrides_the_tag_and_a_local_file_keeps_the_model_config(tmp_path):
    assert activations(clip_architecture("ViT-B-16", "openai", quick_gelu=False)) == {torch.nn.GELU}
    path = tmp_path / "tiny.pt"
    torch.save(load_clip("FC-Tiny", None).state_dict(), path)
    assert activations(load_clip("FC-Tiny", str(path))) == {torch.nn.GELU}
    assert activations(load_clip("FC-Tiny", str(path), quick_gelu=True)) == {QuickGELU}


@pytest.mark.slow
def test_image_normalisation_comes_from_the_tag():
    clip = clip_architecture("ViT-L-14", "laion2b_s32b_b82k")  # trained with mean = std = 0.5
    assert tuple(clip.visual.image_mean) == (0.5, 0.5, 0.5) and tuple(clip.visual.image_std) == (0.5, 0.5, 0.5)
    openai = clip_architecture("ViT-B-16", "openai")
    assert tuple(openai.visual.image_mean) == open_clip.OPENAI_DATASET_MEAN


def test_failed_download_names_the_tag_and_suggests_a_local_path(monkeypatch):
    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(open_clip, "download_pretrained", offline)
    with pytest.raises(RuntimeError, match=r"tag 'openai' \(network is unreachable\).*local checkpoint path"):
        load_clip("ViT-B-16", "openai")


def test_the_model_exposes_its_image_normalisation():
    model = FineCLIPER(ModelConfig(clip_model="FC-Tiny", pretrained=None, variant="base", num_frames=4), ["a", "b"])
    visual = model.clip.visual
    for values, expected in ((model.image_mean, visual.image_mean), (model.image_std, visual.image_std)):
        assert isinstance(values, tuple) and len(values) == 3 and all(type(v) is float for v in values)
        assert values == pytest.approx(tuple(expected))
