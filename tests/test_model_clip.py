"""Building the frozen CLIP as its weights need it: QuickGELU for OpenAI's, the tag's image normalisation,
and a clear error when a tag's weights cannot be downloaded. Nothing is downloaded: architectures are
built with random weights."""

import open_clip
import pytest
import torch
from helpers import MEAN, STD
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


def openai_archive(clip: torch.nn.Module, path) -> None:
    """Save an open_clip CLIP as OpenAI publishes its weights: a TorchScript archive whose state dict also
    holds ``input_resolution``, ``context_length`` and ``vocab_size``, half precision, no attention mask."""
    image_size = clip.visual.image_size[0]
    attn_mask = clip.attn_mask
    del clip._buffers["attn_mask"]
    clip.attn_mask = attn_mask  # OpenAI's model keeps it as a plain attribute, outside the state dict
    for key, value in {"input_resolution": image_size, "context_length": 77, "vocab_size": 49408}.items():
        clip.__dict__.pop(key, None)
        clip.register_buffer(key, torch.tensor(value))
    images, tokens = torch.zeros(1, 3, image_size, image_size), torch.zeros(1, 77, dtype=torch.long)
    traced = torch.jit.trace_module(clip, {"encode_image": images, "encode_text": tokens}, check_trace=False)
    torch.jit.save(traced.half(), str(path))


def test_local_files_openai_archive_gets_quick_gelu_and_a_state_dict_needs_the_setting(tmp_path):
    trained = load_clip("FC-Tiny", None, quick_gelu=True)
    with torch.no_grad():
        trained.visual.proj.mul_(2)
    archive, state_dict = tmp_path / "ViT-B-16.pt", tmp_path / "open_clip_model.pt"
    torch.save(trained.state_dict(), state_dict)
    openai_archive(trained, archive)

    loaded = load_clip("FC-Tiny", str(archive))
    assert activations(loaded) == {QuickGELU}
    assert torch.equal(loaded.visual.proj, trained.visual.proj.half().float())
    assert activations(load_clip("FC-Tiny", str(archive), quick_gelu=False)) == {torch.nn.GELU}  # as set

    with pytest.raises(ValueError, match=r"model.quick_gelu: set it to true or false .*open_clip_model.pt"):
        load_clip("FC-Tiny", str(state_dict))
    assert activations(load_clip("FC-Tiny", str(state_dict), quick_gelu=False)) == {torch.nn.GELU}
    assert activations(load_clip("FC-Tiny", str(state_dict), quick_gelu=True)) == {QuickGELU}
    config = ModelConfig(clip_model="FC-Tiny", pretrained=str(archive), variant="base", num_frames=4)
    assert activations(FineCLIPER(config, ["a", "b"]).clip) == {QuickGELU}


def test_archives_that_are_not_openais_clip_are_clear_errors(tmp_path):
    scripted = tmp_path / "scripted.pt"
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), str(scripted))
    with pytest.raises(ValueError, match=r"scripted.pt is a TorchScript archive but not OpenAI's CLIP"):
        load_clip("FC-Tiny", str(scripted))
    other_model = tmp_path / "other.pt"
    openai_archive(load_clip("FC-Tiny", None, quick_gelu=True), other_model)
    with pytest.raises(ValueError, match=r"other.pt does not hold weights of model.clip_model ViT-B-32"):
        load_clip("ViT-B-32", str(other_model))


def test_quick_gelu_setting_overrides_the_tag():
    assert activations(clip_architecture("ViT-B-16", "openai", quick_gelu=False)) == {torch.nn.GELU}


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


#: OpenAI's CLIP image normalisation, as its preprocessing (clip/clip.py, ``_transform``) writes it out.


def test_the_model_exposes_its_image_normalisation():
    """FC-Tiny without weights takes OpenAI's normalisation (open_clip's default); the model exposes it as
    plain floats and the trainer's inputs are normalised with it: a pixel v becomes (v / 255 - mean) / std."""
    from fineclipper.train.engine import model_inputs

    model = FineCLIPER(ModelConfig(clip_model="FC-Tiny", pretrained=None, variant="base", num_frames=4), ["a", "b"])
    assert model.image_mean == MEAN and model.image_std == STD
    assert all(type(v) is float for v in model.image_mean + model.image_std)
    pixels = torch.tensor([0, 128, 255], dtype=torch.uint8).view(1, 1, 3, 1, 1).expand(1, 4, 3, 8, 8)
    frames = model_inputs(model, {"frames": pixels}, torch.device("cpu"))["frames"]
    expected = [(v / 255 - m) / s for v, m, s in zip((0, 128, 255), MEAN, STD)]
    assert frames[0, :, :, 0, 0].tolist() == [pytest.approx(expected)] * 4
