"""The FineCLIPER model on a tiny CLIP built locally: frozen backbone, adapters, variants, checkpoints."""

import pytest
import torch
from helpers import CLASSES, model_batch, perturbed, tiny_model

from fineclipper.model import VARIANTS, ModelConfig
from fineclipper.model.clip import encode_image, encode_text, load_clip


def test_only_adapters_and_heads_learn_and_clip_stays_bit_identical():
    model = tiny_model()
    before = {k: v.clone() for k, v in model.clip.state_dict().items()}
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and not any(n.startswith("clip.") for n in trainable)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    b = model_batch(model)
    loss, parts = model.loss(model(b), b["label"])
    loss.backward()
    assert all(p.grad is None for p in model.clip.parameters())
    assert model.visual_adapters["landmarks"].blocks[0].mlp.up.weight.grad.abs().sum() > 0
    assert model.visual_adapters["frames"].blocks[0].temporal.up.weight.grad.abs().sum() > 0
    optimizer.step()
    after = model.clip.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert "align" in parts and torch.isfinite(loss)


def test_zero_initialised_adapters_give_plain_clip_features():
    model = tiny_model()
    assert model.visual_adapters["frames"].has_temporal
    images = torch.randn(6, 3, 64, 64)  # two clips of three frames
    with torch.no_grad():
        for stream in model.cfg.streams:
            assert torch.allclose(encode_image(model.clip, images, model.visual_adapters[stream], num_frames=3),
                                  model.clip.encode_image(images), atol=1e-6)
        tokens = model.tokenize(["a person with an expression of surprise."])
        assert torch.allclose(encode_text(model.clip, tokens, model.positive_adapters), model.clip.encode_text(tokens),
                              atol=1e-5)


def test_variants_and_their_parameters():
    counts = {v: tiny_model(v).count_parameters()["total_tunable"] for v in VARIANTS}
    assert counts["base"] < counts["plus"] < counts["starplus"] and counts["base"] < counts["star"] < counts["starplus"]
    base = tiny_model("base")
    out = base(model_batch(base))
    assert out["logits"].shape == (2, 4) and out["fusion_weights"].shape == (2, 1) and "description" not in out
    weights = tiny_model("star")(model_batch(tiny_model("star")))["fusion_weights"]
    assert weights.shape == (2, 3) and torch.allclose(weights.sum(1), torch.ones(2))
    with pytest.raises(ValueError, match="model.variant"):
        ModelConfig(variant="double")
    for streams in (["frames", "mouth"], "frames"):
        with pytest.raises(ValueError, match="model.temporal_adapter_streams"):
            ModelConfig(temporal_adapter_streams=streams)


def test_checkpoint_round_trip_with_weights_only(tmp_path):
    model = perturbed(tiny_model(n_ctx=2))
    state = model.tunable_state_dict()
    assert not any(k.startswith("clip.") for k in state) and "context" in state
    torch.save({"model": state, "classes": CLASSES}, tmp_path / "ck.pt")
    loaded = torch.load(tmp_path / "ck.pt", weights_only=True)
    fresh = tiny_model(n_ctx=2)
    fresh.load_tunable_state_dict(loaded["model"])
    b = model_batch(model)
    with torch.no_grad():
        assert torch.allclose(model(b)["logits"], fresh(b)["logits"], atol=1e-5)
    with pytest.raises(ValueError, match="does not fit"):
        tiny_model("base").load_tunable_state_dict(loaded["model"])


def test_zero_shot_classes_change_the_label_texts():
    """Another dataset's classes, in another order: a shared class keeps its score, a new one gets its own."""
    model = tiny_model("base")
    model.eval()
    b = model_batch(model)
    with torch.no_grad():
        before = model(b)["logits"]
        model.set_classes(["happiness", "sadness", "neutral", "anger", "surprise", "disgust", "fear", "contempt"])
        after = model(b)["logits"]
    assert after.shape == (2, 8)
    for name in ("happiness", "neutral", "anger", "surprise"):
        assert torch.allclose(after[:, model.class_names.index(name)], before[:, CLASSES.index(name)], atol=1e-5)
    assert not torch.allclose(after[:, 1], after[:, 7])  # sadness and contempt read different texts


def test_local_checkpoint_path_and_bad_tags(tmp_path):
    clip = load_clip("FC-Tiny", None)
    with torch.no_grad():
        clip.visual.proj.mul_(2)
    path = tmp_path / "tiny_clip.pt"
    torch.save(clip.state_dict(), path)
    loaded = load_clip("FC-Tiny", str(path), quick_gelu=False)
    assert torch.equal(loaded.visual.proj, clip.visual.proj) and not loaded.visual.proj.requires_grad
    with pytest.raises(ValueError, match="neither a file nor a pretrained tag"):
        load_clip("FC-Tiny", "laion-nonsense")


def test_activation_checkpointing_gives_the_same_step():
    plain, ckpt = tiny_model("star"), tiny_model("star", checkpointing=True)
    ckpt.load_tunable_state_dict(plain.tunable_state_dict())
    b = model_batch(plain)
    losses = []
    for model in (plain, ckpt):
        model.train()
        loss, _ = model.loss(model(b), b["label"])
        loss.backward()
        losses.append(loss.detach())
    assert torch.allclose(losses[0], losses[1], atol=1e-5)
    for adapter in ("attn", "temporal"):
        g0 = getattr(plain.visual_adapters["frames"].blocks[1], adapter).up.weight.grad
        g1 = getattr(ckpt.visual_adapters["frames"].blocks[1], adapter).up.weight.grad
        assert g0.abs().sum() > 0 and torch.allclose(g0, g1, atol=1e-5)
