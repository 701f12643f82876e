"""Training: AdamW + warmup/cosine, bf16 autocast on CUDA, DDP (NCCL on GPU, gloo on CPU), tunable-only
checkpoints loaded with ``weights_only=True``, resume, validation-based selection, JSON-lines metrics.
Supervised (``objective: labels``) or caption pre-training, which reads no label (``objective: captions``).

One process:   python -m fineclipper.train.main --shards 'shards/demo/train-*.tar' --classes ... --out DIR
Several:       torchrun --nproc_per_node 4 -m fineclipper.train.main ...   (add --nnodes/--rdzv-* for nodes)
"""

from __future__ import annotations

import argparse
import json
import sys
import tarfile
from pathlib import Path

import torch

from ..config import load_config
from ..errors import json_argument, run_command
from ..io import write_json
from ..paths import BEST_CHECKPOINT, LAST_CHECKPOINT, TRAIN_CURVES, TRAIN_SUMMARY
from ..shards import CAPTION_FIELD, stage_versions
from .checkpoint import build_model, checkpoint_state, load_checkpoint, save_checkpoint
from .data import epoch_batches, expand_shards, is_validation, make_loader, shard_group
from .distributed import barrier, cleanup, setup_distributed, wrap_ddp
from .engine import optimiser_and_schedule, train_one_epoch, transform_for, validate, validate_captions


def readable_shards(shards: list[str], skip_bad: bool, need_labels: bool = True,
                    need_captions: bool = False) -> tuple[dict[str, list[str]], list[str]]:
    """The shards whose tar headers read to the end, each with its sample keys (no image is decoded), and
    the shards skipped. A truncated or unreadable shard is an error naming it, or (``skip_bad``) a warning.
    ``need_labels``: an unlabelled sample is an error; ``need_captions``: only samples with a caption of
    their own are listed (the others are counted and left out)."""
    keys, skipped = {}, []
    uncaptioned = 0
    for shard in shards:
        try:
            with tarfile.open(shard) as tar:
                names = tar.getnames()
        except (tarfile.TarError, OSError, EOFError) as e:
            if not skip_bad:
                raise ValueError(f"{shard}: not a readable shard ({e}); set train.skip_bad_shards: true to train "
                                 "without it") from None
            print(f"warning: {shard}: not a readable shard ({e}); skipped", file=sys.stderr)
            skipped.append(shard)
            continue
        samples = {n[: -len(".json")] for n in names if n.endswith(".json")}
        unlabelled = samples - {n[: -len(".cls")] for n in names if n.endswith(".cls")}
        if need_captions:
            captioned = {n[: -len(CAPTION_FIELD) - 1] for n in names if n.endswith("." + CAPTION_FIELD)}
            uncaptioned += len(samples - captioned)
            samples &= captioned
        if unlabelled and need_labels:
            raise ValueError(f"{shard}: {len(unlabelled)} samples have no label (an unlabelled dataset, e.g. "
                             f"{sorted(unlabelled)[0]}): training needs labels; use `fineclipper predict` or the "
                             "workflow's predict target")
        keys[shard] = sorted(samples)
    if uncaptioned:
        print(f"{uncaptioned} clips have no caption of their own: caption pre-training leaves them out",
              file=sys.stderr)
    return keys, skipped


def selection_key(record: dict) -> tuple | None:
    """What ``best.pt`` maximises over epochs: validation UAR, among equal UARs (small validation sets tie
    often) the lower cross-entropy; in caption pre-training the lower InfoNCE; None without validation
    clips (every epoch replaces the last)."""
    if "val_uar" in record:
        return (record["val_uar"], -record["val_ce"])
    if "val_info_nce" in record:
        return (-record["val_info_nce"],)
    return None


def train(shards: list[str], classes: list[str], test_groups: list[str], out: str | Path, cfg: dict,
          preprocessing: dict | None = None) -> dict:
    """Train on every group of ``shards`` but ``test_groups``; select on a held-out share of them: by
    validation UAR (ties: the lower cross-entropy) when supervised; by the lower validation InfoNCE of clips
    and captions in caption pre-training, which has no label to score (the last epoch without validation
    clips).

    ``cfg`` is the config's train section: merged over the schema's defaults and validated.
    ``preprocessing`` (the frames, landmarks, masks and describe sections that built the shards) goes into
    the checkpoints with the shards' stage versions, so a checkpoint can preprocess new videos the same way.
    """
    cfg = load_config(overrides={"train": cfg})["train"]
    out = Path(out)
    rank, world, device = setup_distributed()
    torch.manual_seed(cfg["seed"])
    all_shards = expand_shards(shards)
    groups = sorted({shard_group(p) for p in all_shards} - set(test_groups))
    captions = cfg["captions"] if cfg["objective"] == "captions" else None
    keys, skipped = readable_shards([p for p in all_shards if shard_group(p) in groups], cfg["skip_bad_shards"],
                                    need_labels=captions is None, need_captions=captions == "dataset")
    train_shards = list(keys)
    listed = {k for shard_keys in keys.values() for k in shard_keys}
    val_keys = [k for k in listed if is_validation(k, cfg["val_percent"])]
    n_train = len(listed) - len(val_keys)
    if n_train == 0:
        raise ValueError(f"no training samples in groups {groups} of {shards}")
    steps = epoch_batches(n_train, world, cfg["batch_size"])
    recorded = {**(preprocessing or {}), "stage_versions": stage_versions(train_shards)}

    model = build_model(cfg["model"], classes, device)
    model.freeze_for(cfg["objective"], captions)
    ddp = wrap_ddp(model, world, device)
    optimizer, scheduler = optimiser_and_schedule(model, cfg, steps)
    start_epoch, best = 0, {"key": None, "epoch": -1, "record": {}}
    last = out / LAST_CHECKPOINT
    if last.exists():
        state = load_checkpoint(last, device)
        model.load_tunable_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        start_epoch, best = state["epoch"] + 1, state["best"]
        if "key" not in best:  # a last.pt from before selection keys: its best epoch is kept, its figures not
            best = {"key": None, "epoch": best["epoch"], "record": {}}
        if rank == 0:
            print(f"resuming from {last} at epoch {start_epoch}", file=sys.stderr)

    train_tf = transform_for(model, True, cfg["image_size"], cfg["augment"], captions)

    def epoch_loader(epoch: int):
        """This epoch's batches, every training clip once, in an order drawn from the seed and the epoch
        alone: a resumed run sees what an uninterrupted one would have seen."""
        return make_loader(train_shards, train_tf, cfg["batch_size"], cfg["workers"], train=True, keys=keys,
                           select=lambda k: not is_validation(k, cfg["val_percent"]),
                           seed=cfg["seed"] * 1000 + epoch, skip_bad=cfg["skip_bad_shards"])

    val_loader = make_loader(train_shards, transform_for(model, False, cfg["image_size"], None, captions),
                             cfg["batch_size"], 0, train=False,
                             select=lambda k: k in listed and is_validation(k, cfg["val_percent"]),
                             skip_bad=cfg["skip_bad_shards"]) \
        if val_keys and rank == 0 else None
    if rank == 0:
        out.mkdir(parents=True, exist_ok=True)
        what = f"caption pre-training ({captions} captions, no label read)" if captions else "training"
        print(f"{what} on {n_train} clips of groups {groups} ({len(val_keys)} held out for validation), "
              f"{steps} batches/epoch x {world} process(es), tunable parameters: "
              f"{model.count_parameters()['total_tunable']:,}", file=sys.stderr)
    for epoch in range(start_epoch, cfg["epochs"]):
        record = train_one_epoch(model, ddp, epoch_loader(epoch), optimizer, scheduler, cfg, device, epoch, steps,
                                 world, rank == 0)
        if rank == 0:
            if val_loader is not None:
                record.update(validate_captions(model, val_loader, device) if captions
                              else validate(model, val_loader, device))
            key = selection_key(record)
            state = checkpoint_state(model, cfg, epoch, recorded)
            if key is None or best["key"] is None or key > best["key"]:
                best = {"key": key, "epoch": epoch,
                        "record": {k: v for k, v in record.items() if k.startswith("val_")}}
                save_checkpoint(out / BEST_CHECKPOINT, state)
            save_checkpoint(last, {**state, "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                                   "best": best})
            with open(out / TRAIN_CURVES, "a") as f:
                f.write(json.dumps(record) + "\n")
            print(json.dumps(record), file=sys.stderr)
        barrier(world)
    summary = {"objective": cfg["objective"], "captions": captions, "best_epoch": best["epoch"] + 1,
               "best_validation": best["record"], "train_clips": n_train,
               "val_clips": len(val_keys), "groups": groups, "test_groups": test_groups, "world_size": world,
               "skipped_shards": skipped,
               "parameters": model.count_parameters()}
    if rank == 0:
        write_json(out / TRAIN_SUMMARY, summary)
    cleanup()
    return summary


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shards", nargs="+", required=True, help="shard paths, globs or brace patterns")
    parser.add_argument("--classes", required=True, help="class names as a JSON list, in label order")
    parser.add_argument("--test-groups", nargs="*", default=[],
                        help="groups of --shards held out for the final test (none: train on every shard given)")
    parser.add_argument("--out", required=True, help="run folder: checkpoints and metrics")
    parser.add_argument("--config", default="{}", help="the train section as JSON (see the config schema)")
    parser.add_argument("--preprocessing", default="{}",
                        help="the frames, landmarks, masks and describe sections that built the shards, as JSON "
                             "(recorded in the checkpoints, for `fineclipper predict`)")
    args = parser.parse_args(argv)
    run_command("train", train, args.shards, json_argument(args.classes, "--classes"), args.test_groups, args.out,
                json_argument(args.config, "--config"), json_argument(args.preprocessing, "--preprocessing"))


if __name__ == "__main__":
    main()
