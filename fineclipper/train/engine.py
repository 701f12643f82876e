"""One epoch of training, validation, and what both need: the optimiser and schedule, the clip transforms,
batches on the device under autocast."""

from __future__ import annotations

import math
import sys
import time

import torch

from ..model import FineCLIPER
from .data import ClipTransform, to_device
from .distributed import gather_batch


def transform_for(model: FineCLIPER, train: bool, image_size: int | None, augment: dict | None = None,
                  captions: str | None = None) -> ClipTransform:
    """The clip transform for a model, drawing its streams as its config's ``render`` says (a checkpoint
    records it, so evaluation and prediction draw as training did); ``augment`` (the train.augment section)
    only matters in training; ``captions`` (describe or dataset): caption pre-training's text (with
    describe, the description is the caption, not also an input)."""
    size = image_size or model.clip.visual.image_size[0]
    tokenize = model.tokenize if model.cfg.descriptions and captions != "describe" else None
    extra = {"scale": tuple(augment["scale"]), "jitter": augment["jitter"]} if augment else {}
    if captions is not None:
        extra.update(caption_tokenize=model.tokenize, caption_source=captions)
    return ClipTransform(size, model.cfg.num_frames, train, model.cfg.streams, tokenize, render=model.cfg.render,
                         **extra)


def autocast(device: torch.device):
    return (torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda"
            else torch.autocast("cpu", enabled=False))


def model_inputs(model: FineCLIPER, batch: dict, device: torch.device) -> dict:
    """A loader batch on the device, normalised with the CLIP model's own preprocessing mean and std."""
    return to_device(batch, device, model.image_mean, model.image_std)


#: Tunable tensors that are embeddings or learned tokens (by the last part of their name): the class token,
#: time and temporal embeddings, and the prompts' context vectors.
EMBEDDING_NAMES = ("cls", "time", "temporal_embedding", "context")


def takes_weight_decay(name: str, param: torch.Tensor) -> bool:
    """Whether AdamW decays a tunable tensor: weight matrices only. As open_clip's training code
    (``open_clip_train/main.py``: ``exclude = lambda n, p: p.ndim < 2 or "bn" in n or "ln" in n or "bias" in
    n or 'logit_scale' in n``) no biases, LayerNorm or BatchNorm gains, gates or logit scales (here all of
    them have fewer than two dimensions), and, as open_clip's models' ``no_weight_decay()`` (positional and
    class embeddings), no embeddings or learned tokens, found by name (:data:`EMBEDDING_NAMES`)."""
    return param.ndim >= 2 and name.rsplit(".", 1)[-1] not in EMBEDDING_NAMES


def optimiser_and_schedule(model: FineCLIPER, cfg: dict, steps_per_epoch: int):
    """AdamW over the tunable parameters, weight decay on weight matrices only (:func:`takes_weight_decay`),
    linear warmup then cosine."""
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(
        [{"params": [p for n, p in named if takes_weight_decay(n, p)], "weight_decay": cfg["weight_decay"]},
         {"params": [p for n, p in named if not takes_weight_decay(n, p)], "weight_decay": 0.0}], lr=cfg["lr"])
    total, warmup = cfg["epochs"] * steps_per_epoch, cfg["warmup_epochs"] * steps_per_epoch

    def lr_at(step):
        if step < warmup:
            return (step + 1) / max(1, warmup)
        return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))

    return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, lr_at)


def train_one_epoch(model: FineCLIPER, ddp: torch.nn.Module, loader, optimizer, scheduler, cfg: dict, device,
                    epoch: int, steps: int, world: int, show: bool) -> dict:
    """One epoch over ``steps`` batches; returns the epoch's record (losses, lr, clips/s). The losses are
    summed on the device and read once, at the end; the progress bar reads them every ``cfg["log_every"]``
    steps: no step waits for the device but those."""
    from tqdm import tqdm

    ddp.train()
    params = [p for p in model.parameters() if p.requires_grad]
    sums, seen, batches, start = {}, 0, 0, time.perf_counter()
    bar = tqdm(loader, total=steps, desc=f"epoch {epoch + 1}/{cfg['epochs']}", disable=not show, file=sys.stderr,
               unit="batch")
    captions = cfg["objective"] == "captions"
    for step, batch in enumerate(bar, 1):
        inputs = model_inputs(model, batch, device)
        with autocast(device):
            if captions:
                loss, parts, backward = caption_batch_loss(model, ddp(inputs, objective="captions"), inputs["caption"],
                                                           world)
            else:
                loss, parts = model.loss(ddp(inputs), inputs["label"])
                backward = loss
        optimizer.zero_grad(set_to_none=True)
        backward.backward()
        torch.nn.utils.clip_grad_norm_(params, cfg["grad_clip"])
        optimizer.step()
        scheduler.step()
        n = len(batch["key"])
        seen, batches = seen + n, batches + 1
        for k, v in {"loss": loss.detach(), **parts}.items():
            sums[k] = sums.get(k, 0.0) + v * n
        if show and step % cfg["log_every"] == 0:
            bar.set_postfix(loss=f"{loss.item():.3f}",
                            clips_per_s=f"{seen * world / (time.perf_counter() - start):.1f}")
    return {"epoch": epoch + 1, "lr": scheduler.get_last_lr()[0],
            "clips_per_s": seen * world / (time.perf_counter() - start),
            "batches_per_rank": gathered(batches, world), **{k: float(v) / max(1, seen) for k, v in sums.items()}}


def caption_batch_loss(model: FineCLIPER, outputs: dict, tokens: torch.Tensor,
                       world: int) -> tuple[torch.Tensor, dict, torch.Tensor]:
    """Caption pre-training's loss on one step: the symmetric InfoNCE over every rank's clips and captions
    (gathered), plus the + variants' description alignment where descriptions are an input (on this rank's
    clips, as in supervised training); its parts for the log; and what to back-propagate. The InfoNCE is the
    whole batch's on every rank with each rank's gradient flowing through its own clips alone, and DDP
    averages gradients over ranks: x world makes that the whole batch's gradient."""
    video, caption = (gather_batch(outputs[k].float(), world) for k in ("fused", "caption"))
    info_nce = model.caption_loss(video, caption, gather_batch(tokens, world))
    align, parts = model.description_alignment(outputs)
    return info_nce + align, {"info_nce": info_nce.detach(), **parts}, info_nce * world + align


def gathered(value: int, world: int) -> list[int]:
    """Every rank's value (one process: its own)."""
    if world == 1:
        return [value]
    values = [None] * world
    torch.distributed.all_gather_object(values, value)
    return values


@torch.no_grad()
def predict(model: FineCLIPER, loader, device) -> tuple[list[int], list[int], list[str], float, list[list[float]]]:
    """Labels (-1: unlabelled), predictions, keys, the mean cross-entropy over the labelled clips, and
    each clip's class probabilities, over a loader (evaluation mode). The label texts are encoded once."""
    model.eval()
    labels, preds, keys, probs, loss_sum = [], [], [], [], 0.0
    with autocast(device):
        label_features = model.encode_labels()
    for batch in loader:
        inputs = model_inputs(model, batch, device)
        with autocast(device):
            logits = model(inputs, label_features=label_features)["logits"].float()
        loss_sum += torch.nn.functional.cross_entropy(logits, inputs["label"], ignore_index=-1, reduction="sum").item()
        labels += batch["label"].tolist()
        preds += logits.argmax(-1).tolist()
        probs += logits.softmax(-1).tolist()
        keys += batch["key"]
    labelled = sum(label >= 0 for label in labels)
    return labels, preds, keys, loss_sum / max(1, labelled), probs


@torch.no_grad()
def validate_captions(model: FineCLIPER, loader, device) -> dict:
    """Caption pre-training's validation figure: the InfoNCE of the held-out clips and their captions, per
    batch of the loader (in its fixed order), averaged over clips; what chooses the checkpoint."""
    model.eval()
    total, clips = 0.0, 0
    for batch in loader:
        if len(batch["key"]) < 2:  # one clip has no negative: nothing to measure
            continue
        inputs = model_inputs(model, batch, device)
        with autocast(device):
            _, parts, _ = caption_batch_loss(model, model(inputs, objective="captions"), inputs["caption"], 1)
        total, clips = total + float(parts["info_nce"]) * len(batch["key"]), clips + len(batch["key"])
    return {"val_info_nce": total / clips} if clips else {}


def validate(model: FineCLIPER, loader, device) -> dict:
    """Validation UAR, WAR and cross-entropy: what chooses the checkpoint."""
    from .metrics import scores

    labels, preds, _, ce, _ = predict(model, loader, device)
    result = scores(labels, preds, model.class_names)
    return {"val_uar": result["uar"], "val_war": result["war"], "val_ce": ce}
