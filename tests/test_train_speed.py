"""The faster training step equals today's eager step: each optimisation (checkpointing a share of the blocks,
torch.compile of the blocks, the last block's class token alone, bf16 frozen weights, label texts encoded
once in evaluation, no per-step host reads) is checked against the plain path on the CPU, on FC-Tiny and on
ViT-B-32 with random weights (nothing downloaded).

Tolerances: the same computation in the same order (checkpointing, bf16 storage under autocast) is equal
bit for bit; one in another order (the last block's class token alone: other matmul shapes; inductor's
fused kernels) within a relative 1e-4 of today's losses and gradients (fp32 rounding, amplified by depth).
"""

from __future__ import annotations

import sys

import pytest
import torch
from helpers import model_batch, perturbed, tiny_model
from torch.utils.flop_counter import FlopCounterMode

from fineclipper.model import FineCLIPER, ModelConfig
from fineclipper.train.engine import optimiser_and_schedule, predict, train_one_epoch

#: today's eager path: no checkpointing, no compile, every token through every block, fp32 frozen weights
EAGER = {"checkpointing": False, "compile": False, "class_token_only_last_block": False}
#: what two orders of the same fp32 computation may differ by (see the module's docstring)
REORDERED = {"rtol": 1e-4, "atol": 1e-6}
EXACT = {"rtol": 0.0, "atol": 0.0}


def build(clip_model: str, frames: int, variant: str = "starplus", **switches) -> FineCLIPER:
    """A model on a random frozen CLIP, its tunable weights drawn from seed 0 and perturbed (helpers)."""
    return perturbed(tiny_model(variant, clip_model=clip_model, num_frames=frames, **{**EAGER, **switches}))


def train_step(model: FineCLIPER, batch: dict, bf16: bool = False) -> tuple[torch.Tensor, dict]:
    """The loss and every tunable gradient of one training step (CPU bf16 autocast with ``bf16``)."""
    model.train()
    model.zero_grad(set_to_none=True)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        loss, _ = model.loss(model(batch), batch["label"])
    loss.backward()
    return loss.detach(), {n: p.grad for n, p in model.named_parameters() if p.grad is not None}


def assert_same_step(fast: FineCLIPER, eager: FineCLIPER, batch: dict, tolerance: dict, bf16: bool = False):
    loss, grads = train_step(fast, batch, bf16)
    expected_loss, expected = train_step(eager, batch, bf16)
    torch.testing.assert_close(loss, expected_loss, **tolerance)
    assert grads.keys() == expected.keys() and len(grads) > 50
    for name, grad in expected.items():
        assert grad.abs().sum() > 0, name
        torch.testing.assert_close(grads[name], grad, **tolerance, msg=lambda m, n=name: f"{n}: {m}")


def forward_flops(model: FineCLIPER, batch: dict) -> int:
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(batch)
    return counter.get_total_flops()


def step_flops(model: FineCLIPER, batch: dict) -> int:
    """FLOPs of a training step's forward and backward, recomputed blocks included."""
    with FlopCounterMode(display=False) as counter:
        train_step(model, batch)
    return counter.get_total_flops()


@pytest.mark.parametrize("share", [1.0, 0.5])
def test_checkpointing_keeps_the_step_bit_for_bit(share):
    fast, eager = build("FC-Tiny", 4, checkpointing=True, checkpoint_share=share), build("FC-Tiny", 4)
    assert_same_step(fast, eager, model_batch(eager), EXACT)


def test_a_share_of_the_blocks_is_checkpointed():
    """What checkpointing runs again is each checkpointed block's forward, up to the last tensor its backward
    needs (torch stops there): for half the blocks about half of it (FC-Tiny's first block needs less: the
    parsing and landmarks streams enter it without gradients)."""
    batch = model_batch(build("FC-Tiny", 4))
    plain = step_flops(build("FC-Tiny", 4), batch)
    every, half = (step_flops(build("FC-Tiny", 4, checkpointing=True, checkpoint_share=share), batch) - plain
                   for share in (1.0, 0.5))
    assert 0 < half < every and abs(every - 2 * half) < 0.25 * every
    with pytest.raises(ValueError, match="train.model.checkpoint_share"):
        ModelConfig(checkpoint_share=0)


@pytest.fixture
def no_fused_attention():
    """nn.MultiheadAttention without its fused inference path, as under CUDA autocast, which turns it off;
    under CPU autocast it runs where the weights' dtype is the input's (fp32), not for bf16 weights."""
    enabled = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    yield
    torch.backends.mha.set_fastpath_enabled(enabled)


def test_frozen_weights_stored_in_bf16_give_the_same_step_under_autocast(no_fused_attention):
    fast, eager = build("FC-Tiny", 4), build("FC-Tiny", 4)
    fast.store_frozen_in_bf16()
    block = fast.clip.visual.transformer.resblocks[0]
    assert block.attn.in_proj_weight.dtype == block.mlp.c_fc.weight.dtype == fast.clip.text_projection.dtype \
        == torch.bfloat16
    assert block.ln_1.weight.dtype == fast.clip.positional_embedding.dtype == torch.float32
    batch = model_batch(eager)
    assert_same_step(fast, eager, batch, EXACT, bf16=True)
    with pytest.raises(RuntimeError, match="frozen_bf16"):
        fast(batch)


@pytest.fixture(scope="module")
def vit_b32() -> tuple[FineCLIPER, FineCLIPER]:
    """ViT-B-32 with random weights, the frames stream (with T-Adapters in every block), two frames a clip:
    today's path, and half the blocks checkpointed with the last block's class token alone (its vision
    tower pools the class token; FC-Tiny's averages the tokens)."""
    return (build("ViT-B-32", 2, "base", checkpointing=True, checkpoint_share=0.5, class_token_only_last_block=True),
            build("ViT-B-32", 2, "base"))


@pytest.mark.slow
def test_the_last_block_computes_the_class_token_alone_at_vit_b32(vit_b32, no_fused_attention):
    fast, eager = vit_b32
    batch = model_batch(eager)
    saved = forward_flops(eager, batch) - forward_flops(fast, batch)
    # per image, what the last block no longer computes for its 49 patch tokens: their queries, attention
    # output projection and MLP (the adapters' and attention scores' FLOPs come on top)
    assert saved >= 49 * 2 * (1 + 1 + 4 + 4) * 768 ** 2 * len(batch["frames"].flatten(0, 1))
    assert_same_step(fast, eager, batch, REORDERED)


def test_the_class_token_shortcut_leaves_an_averaging_tower_alone(no_fused_attention):
    fast, eager = build("FC-Tiny", 4, class_token_only_last_block=True), build("FC-Tiny", 4)
    batch = model_batch(eager)
    assert forward_flops(fast, batch) == forward_flops(eager, batch)
    assert_same_step(fast, eager, batch, EXACT)


@pytest.mark.slow
def test_compiled_blocks_keep_the_step():
    """torch.compile of the blocks, checkpointed ones (inside the compiled graph) and plain ones, on the CPU."""
    torch._dynamo.reset()
    fast, eager = build("FC-Tiny", 4, compile=True, checkpointing=True, checkpoint_share=0.5), build("FC-Tiny", 4)
    batch = model_batch(eager)
    assert_same_step(fast, eager, batch, REORDERED)
    assert torch._dynamo.utils.counters["stats"]["unique_graphs"] > 0  # compiled, not a silent fall back to eager
    with torch.no_grad():  # evaluation runs through the compiled blocks too
        torch.testing.assert_close(fast.eval()(batch)["logits"], eager.eval()(batch)["logits"], **REORDERED)


def loader_batches(model: FineCLIPER, count: int) -> list[dict]:
    """Loader batches of two uint8 clips each (as ``collate`` makes them)."""
    gen = torch.Generator().manual_seed(2)
    size, t = model.clip.visual.image_size[0], model.cfg.num_frames
    return [{"frames": torch.randint(0, 256, (2, t, 3, size, size), dtype=torch.uint8, generator=gen),
             "label": torch.tensor([i % 4, (i + 1) % 4]), "key": [f"clip{i}a", f"clip{i}b"]} for i in range(count)]


def test_evaluation_encodes_the_label_texts_once():
    from fineclipper.train.engine import model_inputs

    model = build("FC-Tiny", 4, variant="base").eval()
    batches = loader_batches(model, 3)
    with torch.no_grad():
        inputs = [model_inputs(model, b, torch.device("cpu")) for b in batches]
        expected = torch.cat([model(i)["logits"] for i in inputs])
        with FlopCounterMode(display=False) as labels:
            model.encode_labels()
        with FlopCounterMode(display=False) as one_batch:
            model(inputs[0])
    with FlopCounterMode(display=False) as evaluation:
        _, preds, _, _, probs = predict(model, batches, torch.device("cpu"))
    video = one_batch.get_total_flops() - labels.get_total_flops()
    assert evaluation.get_total_flops() == labels.get_total_flops() + 3 * video
    assert preds == expected.argmax(-1).tolist()
    torch.testing.assert_close(torch.tensor(probs), expected.softmax(-1), **EXACT)


def test_training_reads_the_losses_from_the_device_once_an_epoch(monkeypatch):
    """Every read of a tensor's value by our code (``float(t)``, ``t.item()``, ``t.tolist()``) makes the host
    wait for the GPU: the epoch's loop reads the loss sums once, at the end, and the bar every log_every."""
    reads = []

    def spy(name):
        original = getattr(torch.Tensor, name)

        def read(self, *args):
            if sys._getframe(1).f_globals.get("__name__", "").startswith("fineclipper"):
                reads.append(name)
            return original(self, *args)
        return read

    for name in ("item", "__float__", "tolist"):
        monkeypatch.setattr(torch.Tensor, name, spy(name))
    model = build("FC-Tiny", 4, variant="base")
    cfg = {"epochs": 1, "objective": "labels", "grad_clip": 1.0, "lr": 1e-3, "weight_decay": 0.05,
           "warmup_epochs": 0}
    for log_every, bar_reads in ((50, 0), (1, 4)):
        reads.clear()
        optimizer, scheduler = optimiser_and_schedule(model, {**cfg, "log_every": log_every}, 4)
        record = train_one_epoch(model, model, loader_batches(model, 4), optimizer, scheduler,
                                 {**cfg, "log_every": log_every}, torch.device("cpu"), 0, 4, 1, True)
        assert sorted(reads) == ["__float__", "__float__"] + ["item"] * bar_reads  # loss and ce, once each
        assert record["loss"] == pytest.approx(record["ce"]) and record["loss"] > 0


def test_a_trained_model_is_loaded_for_inference_without_the_training_switches(tmp_path):
    """A checkpoint trained with compile and checkpointing on: on a CPU it is loaded with neither (no gradients
    to checkpoint; compiling would cost minutes before the first prediction), with its weights."""
    from fineclipper.train.checkpoint import checkpoint_state, load_trained

    model = build("FC-Tiny", 4, variant="base", compile=True, checkpointing=True)
    torch.save(checkpoint_state(model, {"epochs": 1}, 0, {}), tmp_path / "best.pt")
    loaded, state = load_trained(tmp_path / "best.pt", torch.device("cpu"))
    assert state["model_config"]["compile"] and state["model_config"]["checkpointing"]
    assert not loaded.cfg.compile and not loaded.cfg.checkpointing
    for name, weights in model.tunable_state_dict().items():
        assert torch.equal(loaded.tunable_state_dict()[name], weights)


def test_the_normalisation_is_put_on_the_device_once():
    """A tensor made from host values on a GPU is a synchronous copy: to_device makes mean and std once."""
    from fineclipper.train.data import _normalisation, to_device

    model = build("FC-Tiny", 4, variant="base")
    batch = loader_batches(model, 1)[0]
    first, second = (to_device(batch, torch.device("cpu"), model.image_mean, model.image_std) for _ in range(2))
    torch.testing.assert_close(first["frames"], second["frames"], **EXACT)
    made = _normalisation(tuple(model.image_mean), tuple(model.image_std), torch.device("cpu"))
    assert made is _normalisation(tuple(model.image_mean), tuple(model.image_std), torch.device("cpu"))
    mean, std = (torch.tensor(v).view(1, 1, 3, 1, 1) for v in (model.image_mean, model.image_std))
    torch.testing.assert_close(first["frames"], (batch["frames"].float() / 255 - mean) / std)
