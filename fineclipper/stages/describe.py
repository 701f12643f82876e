"""Stage ``describe``: a text description of the facial movements of each clip, from the configured
backend in one batched call per chunk, passed through the label-leakage filter."""

from __future__ import annotations

import json
import logging

import numpy as np
import pyarrow as pa

from ..backends import build_backend
from ..describe.leakage import remove_leakage
from ..io import npy_load
from ..errors import run_command
from .common import read_chunk, read_rows, run_in_backend_python, run_per_video, stage_args, write_outputs

log = logging.getLogger("fineclipper")

SCHEMA = pa.schema([
    ("id", pa.string()),
    ("text", pa.string()),  # after the leakage filter: what the shard stores
    ("raw", pa.string()),  # the backend's own words
    ("removed", pa.list_(pa.string())),  # words the filter took out
    ("backend", pa.string()),
    ("provenance", pa.string()),  # JSON: what made the text (backend, model, prompt hash, sampling)
])


def describe_all(describer, clips: list[dict]) -> tuple[list[dict], list[dict]]:
    """``(clip, raw text)`` pairs and failure rows: one batched call; if it fails, clip by clip, so one
    bad clip is a failure row and the others still get their text."""
    try:
        return list(zip(clips, describer.describe(clips))), []
    except Exception:  # noqa: BLE001 - find the clip(s) that broke the batch
        log.warning("the batched describe call failed; describing the %d clips one by one", len(clips))
    pairs, failures = run_per_video("describe", clips, lambda clip: (clip, describer.describe([clip])[0]), progress=False)
    return pairs, failures


def run(chunk: str, frames: str, landmarks: str, output: str, failures: str, config: dict,
        progress: bool = True) -> None:
    describer = build_backend("describe", config)  # a missing model stops here, before any video
    class_words = sorted({r["label_name"] for r in read_chunk(chunk)["rows"]}) if config["remove_class_names"] else []
    meta_of = {r["id"]: r for r in read_rows(frames)}

    def load(row: dict) -> dict:
        meta = meta_of[row["id"]]
        return {"id": row["id"], "landmarks": npy_load(row["landmarks"]).astype(np.float32),
                "detected": row["detected"], "fps": meta["fps"], "indices": meta["indices"], "jpegs": meta["jpegs"]}

    clips, failed = run_per_video("describe", [r for r in read_rows(landmarks) if r["id"] in meta_of], load,
                                  progress=progress)
    pairs, batch_failed = describe_all(describer, clips)
    provenance = json.dumps(describer.provenance, sort_keys=True)
    results = []
    for clip, raw in pairs:
        text, removed = remove_leakage(raw, tuple(class_words) + tuple(config["extra_leakage_words"]))
        results.append({"id": clip["id"], "text": text, "raw": raw, "removed": removed, "backend": config["backend"],
                        "provenance": provenance})
    write_outputs(output, failures, results, SCHEMA, failed + batch_failed)


def main() -> None:
    args = stage_args(__doc__, ["chunk", "frames", "landmarks"])
    run_in_backend_python("describe", args.config)
    run_command("describe stage", run, args.chunk, args.frames, args.landmarks, args.output, args.failures, args.config)


if __name__ == "__main__":
    main()
