"""One epoch of training, validation, and what both need: the optimiser and schedule, the clip transforms,
batches on the device under autocast."""

from __future__ import annotations

import math
import sys
import time

import torch

from ..model import FineCLIPER
from .data import ClipTransform, to_device


def transform_for(model: FineCLIPER, train: bool, image_size: int | None, augment: dict | None = None) -> ClipTransform:
    """The clip transform for a model, drawing its streams as its config's ``render`` says (a checkpoint
    records it, so evaluation and prediction draw as training did); ``augment`` (the train.augment section)
    only matters in training."""
    size = image_size or model.clip.visual.image_size[0]
    tokenize = model.tokenize if model.cfg.descriptions else None
    extra = {"scale": tuple(augment["scale"]), "jitter": augment["jitter"]} if augment else {}
    return ClipTransform(size, model.cfg.num_frames, train, model.cfg.streams, tokenize, render=model.cfg.render,
                         **extra)


def autocast(device: torch.device):
    return (torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda"
            else torch.autocast("cpu", enabled=False))


def model_inputs(model: FineCLIPER, batch: dict, device: torch.device) -> dict:
    """A loader batch on the device, normalised with the CLIP model's own preprocessing mean and std."""
    return to_device(batch, device, model.image_mean, model.image_std)


def optimiser_and_schedule(model: FineCLIPER, cfg: dict, steps_per_epoch: int):
    """AdamW over the tunable parameters (no weight decay on biases and norms), linear warmup then cosine."""
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW([{"params": [p for p in params if p.ndim > 1], "weight_decay": cfg["weight_decay"]},
                                   {"params": [p for p in params if p.ndim <= 1], "weight_decay": 0.0}], lr=cfg["lr"])
    total, warmup = cfg["epochs"] * steps_per_epoch, cfg["warmup_epochs"] * steps_per_epoch

    def lr_at(step):
        if step < warmup:
            return (step + 1) / max(1, warmup)
        return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))

    return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, lr_at)


def train_one_epoch(model: FineCLIPER, ddp: torch.nn.Module, loader, optimizer, scheduler, cfg: dict, device,
                    epoch: int, steps: int, world: int, show: bool) -> dict:
    """One epoch over ``steps`` batches; returns the epoch's record (losses, lr, clips/s)."""
    from tqdm import tqdm

    ddp.train()
    params = [p for p in model.parameters() if p.requires_grad]
    sums, seen, batches, start = {}, 0, 0, time.perf_counter()
    bar = tqdm(loader, total=steps, desc=f"epoch {epoch + 1}/{cfg['epochs']}", disable=not show, file=sys.stderr,
               unit="batch")
    for batch in bar:
        inputs = model_inputs(model, batch, device)
        with autocast(device):
            outputs = ddp(inputs)
            loss, parts = model.loss(outputs, inputs["label"])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, cfg["grad_clip"])
        optimizer.step()
        scheduler.step()
        n = len(batch["label"])
        seen, batches = seen + n, batches + 1
        for k, v in {"loss": loss.detach(), **parts}.items():
            sums[k] = sums.get(k, 0.0) + float(v) * n
        bar.set_postfix(loss=f"{loss.item():.3f}", clips_per_s=f"{seen * world / (time.perf_counter() - start):.1f}")
    return {"epoch": epoch + 1, "lr": scheduler.get_last_lr()[0],
            "clips_per_s": seen * world / (time.perf_counter() - start),
            "batches_per_rank": gathered(batches, world), **{k: v / max(1, seen) for k, v in sums.items()}}


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
    each clip's class probabilities, over a loader (evaluation mode)."""
    model.eval()
    labels, preds, keys, probs, loss_sum = [], [], [], [], 0.0
    for batch in loader:
        inputs = model_inputs(model, batch, device)
        with autocast(device):
            logits = model(inputs)["logits"].float()
        loss_sum += torch.nn.functional.cross_entropy(logits, inputs["label"], ignore_index=-1, reduction="sum").item()
        labels += batch["label"].tolist()
        preds += logits.argmax(-1).tolist()
        probs += logits.softmax(-1).tolist()
        keys += batch["key"]
    labelled = sum(label >= 0 for label in labels)
    return labels, preds, keys, loss_sum / max(1, labelled), probs


def validate(model: FineCLIPER, loader, device) -> dict:
    """Validation UAR, WAR and cross-entropy: what chooses the checkpoint."""
    from .metrics import scores

    labels, preds, _, ce, _ = predict(model, loader, device)
    result = scores(labels, preds, model.class_names)
    return {"val_uar": result["uar"], "val_war": result["war"], "val_ce": ce}
