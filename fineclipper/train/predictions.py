"""Per-clip predictions: rows with the top classes and every class's probability (or, for a clip that could
not be used, its reason), written as CSV or JSON. Also what the workflow's ``predict`` target runs: a
checkpoint over one chunk's shard (every clip of the chunk gets a row), and the merge of the chunks' files.

    python -m fineclipper.train.predictions chunk --checkpoint best.pt --shard S.tar --chunk C.json --failures F --out P.csv
    python -m fineclipper.train.predictions merge --inputs P1.csv P2.csv ... --out predictions.csv
"""  # noqa: E501 - the usage line above is also the --help text

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from pathlib import Path

from ..errors import run_command
from ..io import write_bytes

#: Columns every predictions file starts with; one ``p_<class>`` column per class follows.
COLUMNS = ("id", "source", "status", "reason", "label", "predicted", "probability", "top", "frames", "description",
           "vocabulary")


def top_classes(classes: list[str], probs: list[float], k: int) -> str:
    """``"happiness 0.71; neutral 0.20; anger 0.05"``."""
    order = sorted(range(len(classes)), key=lambda i: -probs[i])[:k]
    return "; ".join(f"{classes[i]} {probs[i]:.2f}" for i in order)


def prediction_row(classes: list[str], key: str, probs: list[float], top_k: int = 3, **extra) -> dict:
    """The row of a predicted clip."""
    best = max(range(len(classes)), key=lambda i: probs[i])
    return {"id": key, "status": "ok", "predicted": classes[best], "probability": round(probs[best], 6),
            "top": top_classes(classes, probs, top_k), **extra,
            **{f"p_{c}": round(p, 6) for c, p in zip(classes, probs)}}


def failure_row(key: str, reason: str, **extra) -> dict:
    """The row of a clip that could not be used."""
    return {"id": key, "status": "failed", "reason": reason, **extra}


def prediction_rows(classes: list[str], keys: list[str], probs: list[list[float]], listed: list[dict],
                    reasons: dict[str, dict]) -> list[dict]:
    """A row for every listed clip (manifest rows), in list order: its prediction, or why it has none."""
    predicted = dict(zip(keys, probs))
    rows = []
    for item in listed:
        extra = {"source": item["source"], "label": item.get("label_name") or ""}
        if item["id"] in predicted:
            rows.append(prediction_row(classes, item["id"], predicted[item["id"]], **extra))
        else:
            failure = reasons.get(item["id"], {})
            rows.append(failure_row(item["id"],
                                    f"{failure.get('stage', '?')}: {failure.get('reason', 'not in any shard')}",
                                    **extra))
    return rows


def write_predictions(path: str | Path, rows: list[dict]) -> None:
    """Rows as CSV, or as JSON when ``path`` ends in .json; written atomically."""
    if str(path).endswith(".json"):
        write_bytes(path, (json.dumps(rows, indent=2) + "\n").encode())
        return
    columns = list(dict.fromkeys([*COLUMNS, *(k for r in rows for k in r)]))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_bytes(path, buffer.getvalue().encode())


def read_predictions(path: str | Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def predict_chunk(checkpoint: str, shard: str, chunk: str, failures: list[str], out: str, batch_size: int = 8) -> None:
    """Predictions for every clip of one chunk: from its shard, or its failure reason."""
    import torch

    from ..stages.common import read_chunk
    from .checkpoint import load_trained
    from .data import make_loader
    from .engine import predict, transform_for
    from .evaluate import failure_reasons
    from .main import stage_versions

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model, state = load_trained(checkpoint, device)
    built = stage_versions([shard])
    trained = state.get("preprocessing", {}).get("stage_versions")
    if built and trained and built != trained:
        print(f"warning: {shard} was built by stage versions {built}, the checkpoint's training shards by "
              f"{trained}: its inputs may differ from what the model learned on", file=sys.stderr)
    loader = make_loader([shard], transform_for(model, False, state["train_config"].get("image_size")), batch_size, 0,
                         train=False)
    _, _, keys, _, probs = predict(model, loader, device)
    rows = prediction_rows(model.class_names, keys, probs, read_chunk(chunk)["rows"], failure_reasons(failures))
    write_predictions(out, rows)
    print(f"{sum(r['status'] == 'ok' for r in rows)} of {len(rows)} clips predicted -> {out}")


def merge(inputs: list[str], out: str) -> None:
    """One file of the chunks' predictions, in chunk order."""
    rows = [row for path in inputs for row in read_predictions(path)]
    write_predictions(out, rows)
    print(f"{len(rows)} clips ({sum(r['status'] == 'ok' for r in rows)} predicted) -> {out}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("chunk", help="a checkpoint's predictions for every clip of one chunk")
    p.add_argument("--checkpoint", required=True, help="best.pt of a training run")
    p.add_argument("--shard", required=True, help="the chunk's shard")
    p.add_argument("--chunk", required=True, help="the chunk's manifest (results/<dataset>/chunks/<chunk>.json)")
    p.add_argument("--failures", nargs="*", default=[], help="the chunk's failures table")
    p.add_argument("--out", required=True, help="predictions file (.csv or .json)")
    p = sub.add_parser("merge", help="one predictions file from the chunks' files")
    p.add_argument("--inputs", nargs="+", required=True, help="the chunks' predictions files, in order")
    p.add_argument("--out", required=True, help="the merged file (.csv or .json)")
    args = parser.parse_args(argv)
    if args.command == "chunk":
        run_command("predict", predict_chunk, args.checkpoint, args.shard, args.chunk, args.failures, args.out)
    else:
        run_command("predict", merge, args.inputs, args.out)


if __name__ == "__main__":
    main()
