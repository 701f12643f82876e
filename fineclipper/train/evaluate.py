"""Final evaluation of a checkpoint on the test groups: WAR, UAR, per-class recall, confusion matrix
(JSON and PNG). With ``--classes`` of another dataset it is zero-shot on that dataset's label texts."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from ..io import write_json
from .data import expand_shards, make_loader
from .loop import build_model, load_checkpoint, predict, transform_for
from .metrics import plot_confusion, scores


def evaluate(checkpoint: str, shards: list[str], test_groups: list[str], out: str | Path,
             classes: list[str] | None = None, batch_size: int = 8, workers: int = 2) -> dict:
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    state = load_checkpoint(checkpoint, device)
    model = build_model(state["model_config"], state["classes"], device)
    model.load_tunable_state_dict(state["model"])
    zero_shot = classes is not None and list(classes) != list(state["classes"])
    if zero_shot:
        model.set_classes(classes)
    test = expand_shards(shards, test_groups)
    loader = make_loader(test, transform_for(model, False, state["train_config"].get("image_size")), batch_size,
                         workers, train=False)
    labels, preds, keys, _ = predict(model, loader, device)
    result = scores(labels, preds, model.class_names)
    result.update(checkpoint=str(checkpoint), test_groups=test_groups, zero_shot=zero_shot,
                  trained_classes=state["classes"], predictions=dict(zip(keys, preds)))
    out = Path(out)
    write_json(out / "metrics.json", result)
    plot_confusion(result, out / "confusion.png", f"{'zero-shot ' if zero_shot else ''}test {'+'.join(test_groups)}")
    print(f"UAR {result['uar']:.4f}  WAR {result['war']:.4f}  on {result['samples']} clips -> {out}/metrics.json")
    return result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--shards", nargs="+", required=True)
    parser.add_argument("--test-groups", nargs="+", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--classes", help="JSON list: evaluate zero-shot with these label texts")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    evaluate(args.checkpoint, args.shards, args.test_groups, args.out,
             json.loads(args.classes) if args.classes else None, args.batch_size, args.workers)


if __name__ == "__main__":
    main()
