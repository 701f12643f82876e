"""Text-side details on the tiny CLIP: clamped logit scales, the alignment's own temperature, learnable
context that keeps the end-of-text token of long prompts, and the frozen CLIP staying in eval mode."""

import math

import pytest
import torch
from helpers import CLASSES, model_batch, tiny_model

from fineclipper.model.clip import embed_prompts


def test_class_score_scale_is_clamped_at_100():
    model = tiny_model("base")
    b = model_batch(model)
    with torch.no_grad():
        model.logit_scale.fill_(10.0)  # exp(10) would be 22026
        out = model(b)
        pos, neg = model.encode_labels()
    assert torch.allclose(out["logits"], 100 * (out["video"] @ pos.T - out["video"] @ neg.T), atol=1e-4)


def symmetric_info_nce_2x2(video: torch.Tensor, text: torch.Tensor, scale: float) -> float:
    """The symmetric InfoNCE of two clips and their two texts, by hand: with logits l = scale x video . text,
    each of the four softmax terms (two rows, two columns) is log(1 + exp(l_other - l_own)); their mean."""
    logits = scale * video @ text.T
    off = [logits[0, 1] - logits[0, 0], logits[1, 0] - logits[1, 1],  # rows: a clip against both texts
           logits[1, 0] - logits[0, 0], logits[0, 1] - logits[1, 1]]  # columns: a text against both clips
    return sum(math.log1p(math.exp(float(d))) for d in off) / 4


def test_description_alignment_has_its_own_clamped_temperature():
    model = tiny_model("plus")
    assert model.align_logit_scale.requires_grad and "align_logit_scale" in model.tunable_state_dict()
    assert model.align_logit_scale.item() == torch.tensor(math.log(1 / 0.07)).item()
    b = model_batch(model)
    out = model(b)
    video, description = out["video"].detach(), out["description"].detach()
    assert video.shape[0] == description.shape[0] == 2

    def align() -> float:
        return float(model.loss(out, b["label"])[1]["align"])

    assert align() == pytest.approx(symmetric_info_nce_2x2(video, description, 1 / 0.07), rel=1e-5)
    with torch.no_grad():
        model.logit_scale.fill_(0.0)  # the class-score scale does not touch the alignment
    assert align() == pytest.approx(symmetric_info_nce_2x2(video, description, 1 / 0.07), rel=1e-5)
    with torch.no_grad():
        model.align_logit_scale.fill_(10.0)  # exp(10) is clamped at 100
    assert align() == pytest.approx(symmetric_info_nce_2x2(video, description, 100.0), rel=1e-5)
    model.align_logit_scale.data.fill_(1.0)
    model.loss(model(b), b["label"])[0].backward()
    assert model.align_logit_scale.grad.abs() > 0


def test_context_tokens_keep_the_end_of_text_token_of_long_prompts():
    n_ctx = 4
    long = " ".join(["the inner eyebrows rise, the lips press together and the jaw drops slightly"] * 8)
    descriptors = {c: f"{long} {c}" for c in CLASSES[:-1]}  # the last class keeps a short prompt
    model = tiny_model("base", n_ctx=n_ctx, class_descriptors=descriptors)
    context_length = model.clip.positional_embedding.shape[0]
    eot_id = model.tokenize.eot_token_id
    for tokens in (model.positive_tokens, model.negative_tokens):
        assert tokens.shape == (len(CLASSES), context_length - n_ctx)
        assert (tokens[:-1, -1] == eot_id).all()  # truncated by the tokenizer, which keeps the end-of-text token
        with torch.no_grad():
            x, eot = embed_prompts(model.clip, tokens, model.context)
        assert eot[:-1].tolist() == [context_length - 1] * (len(CLASSES) - 1) and eot[-1] < context_length - 1
        pooled = x[torch.arange(len(x)), eot] - model.clip.positional_embedding[eot]
        assert torch.allclose(pooled, model.clip.token_embedding.weight[eot_id].expand_as(pooled), atol=1e-6)
    with torch.no_grad():
        pos, neg = model.encode_labels()
    for vectors in (pos, neg):
        assert torch.isfinite(vectors).all()
        distances = torch.cdist(vectors, vectors) + torch.eye(len(CLASSES))
        assert (distances > 1e-3).all()  # one vector per class


def test_frozen_clip_stays_in_eval_mode_while_the_adapters_train():
    model = tiny_model()
    model.train()
    assert not any(m.training for m in model.clip.modules())
    trainable = [model.visual_adapters, model.temporal, model.positive_adapters, model.description_adapters]
    assert all(m.training for part in trainable for m in part.modules())
    model.eval()
    assert not any(m.training for m in model.modules())
    model.train(True)
    assert model.training and model.temporal["frames"].standardise.training and not model.clip.training
