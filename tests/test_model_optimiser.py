"""What AdamW decays: the weight matrices of adapters, temporal transformers and fusion; never embeddings,
learned tokens, norms, biases, gates or logit scales (open_clip's training rule)."""

import re

from fineclipper.model import FineCLIPER, ModelConfig
from fineclipper.train.engine import optimiser_and_schedule

DECAYED = [r"(visual_adapters\.\w+|positive_adapters|negative_adapters|description_adapters)"
           r"\.blocks\.\d+\.(attn|mlp|temporal)\.(down|up)\.weight",
           r"temporal\.\w+\.encoder\.layers\.\d+\.(self_attn\.in_proj_weight|self_attn\.out_proj\.weight"
           r"|linear1\.weight|linear2\.weight)",
           r"fusion\.[02]\.weight"]
NOT_DECAYED = [r"temporal\.\w+\.(cls|time)", r"visual_adapters\.frames\.temporal_embedding", r"context",
               r"temporal\.\w+\.(standardise\.(weight|bias)|norm\.(weight|bias))",
               r"temporal\.\w+\.encoder\.layers\.\d+\.(norm[12]\.(weight|bias)|self_attn\.in_proj_bias"
               r"|self_attn\.out_proj\.bias|linear[12]\.bias)",
               r".*adapters.*\.(down|up)\.bias", r"fusion\.[02]\.bias",
               r"logit_scale", r"align_logit_scale", r"description_gate"]


def test_weight_decay_only_on_weight_matrices():
    model = FineCLIPER(ModelConfig(clip_model="FC-Tiny", pretrained=None, variant="starplus", num_frames=4, n_ctx=2),
                       ["a", "b"])
    optimizer, _ = optimiser_and_schedule(model, {"lr": 1e-3, "weight_decay": 0.05, "epochs": 1,
                                                  "warmup_epochs": 0}, steps_per_epoch=1)
    name_of = {id(p): n for n, p in model.named_parameters()}
    decay, no_decay = ({name_of[id(p)] for p in group["params"]} for group in optimizer.param_groups)
    assert [g["weight_decay"] for g in optimizer.param_groups] == [0.05, 0.0]
    assert decay | no_decay == {n for n, p in model.named_parameters() if p.requires_grad} and not decay & no_decay
    for names, patterns in ((decay, DECAYED), (no_decay, NOT_DECAYED)):
        assert names == {n for n in names if any(re.fullmatch(pattern, n) for pattern in patterns)}
        assert all(any(re.fullmatch(pattern, n) for n in names) for pattern in patterns)  # each pattern has a tensor
    assert {"temporal.frames.cls", "temporal.frames.time", "visual_adapters.frames.temporal_embedding",
            "context", "temporal.parsing.standardise.weight"} <= no_decay
