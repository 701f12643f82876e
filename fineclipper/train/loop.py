"""Training: AdamW + warmup/cosine, bf16 autocast on CUDA, DDP (NCCL on GPU, gloo on CPU), tunable-only
checkpoints loaded with ``weights_only=True``, resume, validation-based selection, JSON-lines metrics.

One process:   python -m fineclipper.train.loop --shards 'shards/demo/*.tar' --classes ... --out DIR
Several:       torchrun --nproc_per_node 4 -m fineclipper.train.loop ...   (add --nnodes/--rdzv-* for nodes)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tarfile
import time
from pathlib import Path

import torch

from ..config import load_config
from ..io import atomic_path, write_json
from ..model import FineCLIPER, ModelConfig
from .data import ClipTransform, expand_shards, is_validation, make_loader, shard_group, to_device
from .metrics import scores


def shard_keys(shards: list[str]) -> list[str]:
    """Sample keys of shards, read from the tar headers (no image is decoded)."""
    keys = []
    for shard in shards:
        with tarfile.open(shard) as tar:
            keys.extend(m.name[: -len(".cls")] for m in tar.getmembers() if m.name.endswith(".cls"))
    return keys


def setup_distributed() -> tuple[int, int, torch.device]:
    """Join the process group torchrun describes (if any); return rank, world size and device."""
    world = int(os.environ.get("WORLD_SIZE", 1))
    local = int(os.environ.get("LOCAL_RANK", 0))
    device = torch.device(f"cuda:{local}" if torch.cuda.is_available() else "cpu")
    if world > 1 and not torch.distributed.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(device)
        torch.distributed.init_process_group("nccl" if device.type == "cuda" else "gloo")
    rank = torch.distributed.get_rank() if torch.distributed.is_initialized() else 0
    return rank, world, device


def save_checkpoint(path: Path, state: dict) -> None:
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load_checkpoint(path: str | Path, device="cpu") -> dict:
    """Checkpoints hold tensors, numbers, strings, lists and dicts only: safe with ``weights_only``."""
    return torch.load(path, map_location=device, weights_only=True)


def build_model(model_cfg: dict, classes: list[str], device) -> FineCLIPER:
    return FineCLIPER(ModelConfig(**model_cfg), classes).to(device)


def transform_for(model: FineCLIPER, train: bool, image_size: int | None, augment: dict | None = None) -> ClipTransform:
    """The clip transform for a model; ``augment`` (the train.augment section) only matters in training."""
    size = image_size or model.clip.visual.image_size[0]
    tokenize = model.tokenize if model.cfg.descriptions else None
    extra = {"scale": tuple(augment["scale"]), "jitter": augment["jitter"]} if augment else {}
    return ClipTransform(size, model.cfg.num_frames, train, model.cfg.streams, tokenize, **extra)


def autocast(device: torch.device):
    return torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else torch.autocast("cpu", enabled=False)


def model_inputs(model: FineCLIPER, batch: dict, device: torch.device) -> dict:
    """A loader batch on the device, normalised with the CLIP model's own preprocessing mean and std."""
    return to_device(batch, device, model.image_mean, model.image_std)


@torch.no_grad()
def predict(model: FineCLIPER, loader, device) -> tuple[list[int], list[int], list[str], float]:
    """Labels, predictions, keys and the mean cross-entropy over a loader."""
    model.eval()
    labels, preds, keys, loss_sum = [], [], [], 0.0
    for batch in loader:
        inputs = model_inputs(model, batch, device)
        with autocast(device):
            logits = model(inputs)["logits"].float()
        loss_sum += torch.nn.functional.cross_entropy(logits, inputs["label"], reduction="sum").item()
        labels += batch["label"].tolist()
        preds += logits.argmax(-1).tolist()
        keys += batch["key"]
    return labels, preds, keys, loss_sum / max(1, len(labels))


def train(shards: list[str], classes: list[str], test_groups: list[str], out: str | Path, cfg: dict) -> dict:
    """Train on every group of ``shards`` but ``test_groups``; select on a held-out share of them.

    ``cfg`` is the config's train section: merged over the schema's defaults and validated.
    """
    cfg = load_config(overrides={"train": cfg})["train"]
    out = Path(out)
    rank, world, device = setup_distributed()
    torch.manual_seed(cfg["seed"])
    all_shards = expand_shards(shards)
    groups = sorted({shard_group(p) for p in all_shards} - set(test_groups))
    train_shards = [p for p in all_shards if shard_group(p) in groups]
    keys = shard_keys(train_shards)
    val_keys = [k for k in keys if is_validation(k, cfg["val_percent"])]
    n_train = len(keys) - len(val_keys)
    if n_train == 0:
        raise ValueError(f"no training samples in groups {groups} of {shards}")
    batches = math.ceil(n_train / (cfg["batch_size"] * world))

    model = build_model(cfg["model"], classes, device)
    ddp = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None) \
        if world > 1 else model
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.ndim > 1]
    no_decay = [p for p in params if p.ndim <= 1]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": cfg["weight_decay"]},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=cfg["lr"])
    total, warmup = cfg["epochs"] * batches, cfg["warmup_epochs"] * batches

    def lr_at(step):
        if step < warmup:
            return (step + 1) / max(1, warmup)
        return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_at)
    start_epoch, best = 0, {"uar": -1.0, "ce": float("inf"), "epoch": -1}
    last = out / "last.pt"
    if last.exists():
        state = load_checkpoint(last, device)
        model.load_tunable_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        start_epoch, best = state["epoch"] + 1, state["best"]
        if rank == 0:
            print(f"resuming from {last} at epoch {start_epoch}", file=sys.stderr)

    train_tf = transform_for(model, True, cfg["image_size"], cfg["augment"])
    eval_tf = transform_for(model, False, cfg["image_size"])
    loader = make_loader(train_shards, train_tf, cfg["batch_size"], cfg["workers"], train=True,
                         select=lambda k: not is_validation(k, cfg["val_percent"]), batches_per_epoch=batches,
                         seed=cfg["seed"] * 1000 + start_epoch)
    val_loader = make_loader(train_shards, eval_tf, cfg["batch_size"], 0, train=False,
                             select=lambda k: is_validation(k, cfg["val_percent"])) if val_keys and rank == 0 else None
    if rank == 0:
        out.mkdir(parents=True, exist_ok=True)
        print(f"training on {n_train} clips of groups {groups} ({len(val_keys)} held out for validation), "
              f"{batches} batches/epoch x {world} process(es), tunable parameters: "
              f"{model.count_parameters()['total_tunable']:,}", file=sys.stderr)
    from tqdm import tqdm

    log_path = out / "metrics.jsonl"
    for epoch in range(start_epoch, cfg["epochs"]):
        ddp.train()
        sums, seen, start = {}, 0, time.perf_counter()
        bar = tqdm(loader, total=batches, desc=f"epoch {epoch + 1}/{cfg['epochs']}", disable=rank != 0,
                   file=sys.stderr, unit="batch")
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
            seen += n
            for k, v in {"loss": loss.detach(), **parts}.items():
                sums[k] = sums.get(k, 0.0) + float(v) * n
            bar.set_postfix(loss=f"{loss.item():.3f}", clips_per_s=f"{seen * world / (time.perf_counter() - start):.1f}")
        record = {"epoch": epoch + 1, "lr": scheduler.get_last_lr()[0],
                  "clips_per_s": seen * world / (time.perf_counter() - start),
                  **{k: v / max(1, seen) for k, v in sums.items()}}
        if rank == 0:
            if val_loader is not None:
                labels, preds, _, val_ce = predict(model, val_loader, device)
                val = scores(labels, preds, classes)
                record.update(val_uar=val["uar"], val_war=val["war"], val_ce=val_ce)
            # Best validation UAR; among equal UARs (small validation sets tie often) the lower loss.
            improved = val_loader is None or (record["val_uar"], -record["val_ce"]) > (best["uar"], -best["ce"])
            state = {"model": model.tunable_state_dict(), "model_config": model.cfg.to_dict(), "classes": classes,
                     "epoch": epoch, "train_config": {k: v for k, v in cfg.items() if k != "model"}}
            if improved:
                best = {"uar": record.get("val_uar", 0.0), "ce": record.get("val_ce", 0.0), "epoch": epoch}
                save_checkpoint(out / "best.pt", state)
            save_checkpoint(last, {**state, "optimizer": optimizer.state_dict(),
                                   "scheduler": scheduler.state_dict(), "best": best})
            with open(log_path, "a") as f:
                f.write(json.dumps(record) + "\n")
            print(json.dumps(record), file=sys.stderr)
        if world > 1:
            torch.distributed.barrier()
    summary = {"best_epoch": best["epoch"] + 1, "best_val_uar": best["uar"], "train_clips": n_train,
               "val_clips": len(val_keys), "groups": groups, "test_groups": test_groups, "world_size": world,
               "parameters": model.count_parameters()}
    if rank == 0:
        write_json(out / "train_summary.json", summary)
    if torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()
    return summary


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shards", nargs="+", required=True, help="shard paths, globs or brace patterns")
    parser.add_argument("--classes", required=True, help="class names as a JSON list, in label order")
    parser.add_argument("--test-groups", nargs="*", default=[],
                        help="groups of --shards held out for the final test (none: train on every shard given)")
    parser.add_argument("--out", required=True, help="run folder: checkpoints and metrics")
    parser.add_argument("--config", default="{}", help="the train section as JSON (see the config schema)")
    args = parser.parse_args(argv)
    train(args.shards, json.loads(args.classes), args.test_groups, args.out, json.loads(args.config))


if __name__ == "__main__":
    main()
