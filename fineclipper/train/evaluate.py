"""Final evaluation of a checkpoint on every listed clip of the test groups: WAR, UAR, per-class recall,
confusion matrix (JSON and PNG), per group and over all. A listed clip that is in no shard (lost in
preprocessing) counts as a wrong prediction and is listed with its failure reason.

What the figures measure (``protocol`` in metrics.json): a supervised model on its own dataset's test clips
is ``supervised``; on another dataset's (``--protocol cross_dataset``, with that dataset's ``--classes``, its
own labels and label texts) ``cross-dataset transfer``; a caption-pre-trained model, which read no label, is
``zero-shot`` on any dataset (the paper's Table 3).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ..chunks import failure_reasons, read_chunk
from ..datasets.classes import match_by_name
from ..device import best_device
from ..errors import json_argument, run_command
from ..io import write_json
from ..paths import CONFUSION_PLOT, EVAL_METRICS, EVAL_PREDICTIONS
from ..predictions import prediction_rows, write_predictions
from .checkpoint import load_trained
from .data import expand_shards, make_loader
from .engine import predict, transform_for
from .metrics import MISSING, coverage_scores, plot_confusion


def listed_clips(chunks: list[str]) -> list[dict]:
    """Every clip the chunk manifests list (id, label, label_name, group), in manifest order."""
    return [row for chunk in chunks for row in read_chunk(chunk)["rows"]]


#: What metrics.json says a figure measures, by how the model was trained and where it is scored.
PROTOCOLS = {"supervised": "supervised", "zero_shot": "zero-shot", "cross_dataset": "cross-dataset transfer"}


def protocol_of(state: dict, other_protocol: str | None) -> str:
    """``zero_shot`` for a caption-pre-trained checkpoint; else ``cross_dataset`` on another dataset
    (``other_protocol`` is the protocol an output was named for, checked against the checkpoint), else
    ``supervised``."""
    measured = "zero_shot" if state["train_config"].get("objective") == "captions" else (
        "cross_dataset" if other_protocol else "supervised")
    if other_protocol and other_protocol != measured:
        raise ValueError(f"--protocol {other_protocol}: the checkpoint's training objective "
                         f"({state['train_config'].get('objective', 'labels')}) makes this {PROTOCOLS[measured]}")
    return measured


def evaluate(checkpoint: str, shards: list[str], chunks: list[str], failures: list[str], out: str | Path,
             classes: list[str] | None = None, batch_size: int = 8, workers: int = 2,
             other_protocol: str | None = None) -> dict:
    """Score a checkpoint on the clips the ``chunks`` manifests list, reading them from ``shards``;
    ``other_protocol`` (``zero_shot`` or ``cross_dataset``): the clips are another dataset's than the
    checkpoint was trained on, scored with its ``classes``."""
    device = best_device()
    model, state = load_trained(checkpoint, device)
    protocol = protocol_of(state, other_protocol)
    if classes is not None and list(classes) != list(state["classes"]):
        model.set_classes(classes)
    listed = listed_clips(chunks)
    by_id = {row["id"]: row for row in listed}
    loader = make_loader(shards, transform_for(model, False, state["train_config"].get("image_size")), batch_size,
                         workers, train=False, select=lambda key: key in by_id)
    labels, preds, keys, _, probs = predict(model, loader, device)
    predicted = dict(zip(keys, preds))
    for key, label in zip(keys, labels):
        if label != by_id[key]["label"]:
            raise ValueError(f"{key}: the shard's label {label} is not the manifest's {by_id[key]['label']}")
    reasons = failure_reasons(failures)
    missing = [{"id": r["id"], "group": r["group"], "label_name": r["label_name"],
                **{k: reasons.get(r["id"], {}).get(k, "not in any shard") for k in ("stage", "reason")}}
               for r in listed if r["id"] not in predicted]

    def group_scores(rows):
        return coverage_scores([r["label"] for r in rows], [predicted.get(r["id"], MISSING) for r in rows],
                               model.class_names)

    result = group_scores(listed)
    groups = sorted({r["group"] for r in listed})
    result["groups"] = {g: group_scores([r for r in listed if r["group"] == g]) for g in groups}
    if len(groups) > 1:  # the field's figure for a 5-fold test set: the mean of the per-fold figures
        result["mean_over_groups"] = {k: float(np.mean([result["groups"][g][k] for g in groups]))
                                      for k in ("uar", "war", "uar_evaluated", "war_evaluated")}
    seen = [c for c, match in match_by_name(state["classes"], model.class_names).items() if match]
    recalls = result["per_class_recall"]
    for name, subset in (("seen", seen), ("unseen", [c for c in model.class_names if c not in seen])):
        present = [recalls[c] for c in subset if recalls[c] is not None]
        result[f"uar_{name}_classes"] = float(np.mean(present)) if present else None
    model_cfg = state["model_config"]
    result.update(checkpoint=str(checkpoint), protocol=PROTOCOLS[protocol], trained_classes=state["classes"],
                  objective=state["train_config"].get("objective", "labels"),
                  captions=state["train_config"].get("captions") if protocol == "zero_shot" else None,
                  model={k: model_cfg[k] for k in ("variant", "clip_model", "pretrained")},
                  seen_classes=seen, missing=missing, predictions={k: predicted[k] for k in sorted(predicted)})
    out = Path(out)
    write_json(out / EVAL_METRICS, result)
    write_predictions(out / EVAL_PREDICTIONS, prediction_rows(model.class_names, keys, probs, listed, reasons))
    plot_confusion(result, out / CONFUSION_PLOT, f"{PROTOCOLS[protocol]}, test {'+'.join(groups)}")
    print(f"UAR {result['uar']:.4f}  WAR {result['war']:.4f}  ({result['evaluated']}/{result['listed']} listed clips "
          f"evaluated; a missing clip counts as wrong) -> {out / EVAL_METRICS}")
    for m in missing[:20]:
        print(f"  missing {m['id']} ({m['group']}, {m['label_name']}): {m['stage']}: {m['reason']}")
    return result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True, help="best.pt of a training run")
    parser.add_argument("--shards", nargs="+", required=True, help="the test groups' shards")
    parser.add_argument("--chunks", nargs="+", required=True,
                        help="the test groups' chunk manifests (results/<dataset>/chunks/<chunk>.json): "
                             "the listed clips")
    parser.add_argument("--failures", nargs="*", default=[], help="the chunks' failures tables, for the reasons")
    parser.add_argument("--out", required=True, help="folder for metrics.json and confusion.png")
    parser.add_argument("--classes", help="JSON list: score with these label texts (another dataset's)")
    parser.add_argument("--protocol", choices=["zero_shot", "cross_dataset"],
                        help="the clips are another dataset's: zero_shot (a caption-pre-trained checkpoint) or "
                             "cross_dataset (a supervised one); checked against the checkpoint")
    parser.add_argument("--batch-size", type=int, default=8, help="clips per batch")
    parser.add_argument("--workers", type=int, default=2, help="loader worker processes")
    args = parser.parse_args(argv)
    classes = json_argument(args.classes, "--classes") if args.classes else None
    run_command("evaluate", evaluate, args.checkpoint, expand_shards(args.shards), args.chunks, args.failures,
                args.out, classes, args.batch_size, args.workers, args.protocol)


if __name__ == "__main__":
    main()
