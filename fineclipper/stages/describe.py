"""Stage ``describe``: a text description of the facial movements of each clip, from the configured
backend in one batched call per chunk, passed through the label-leakage filter."""

from __future__ import annotations

import json
import logging

import numpy as np
import pyarrow as pa

from ..backends import build_backend
from ..chunks import read_chunk
from ..describe.leakage import remove_leakage
from ..io import npy_load
from .common import read_rows, run_per_video, stage_main, write_outputs

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
    pairs, failures = run_per_video("describe", clips, lambda clip: (clip, describer.describe([clip])[0]),
                                    progress=False)
    return pairs, failures


def describer_input(frames_row: dict, landmarks_row: dict) -> dict:
    """What a describer reads of one clip: its stored frames, landmarks, detection flags and timing."""
    return {"id": frames_row["id"], "landmarks": npy_load(landmarks_row["landmarks"]).astype(np.float32),
            "detected": landmarks_row["detected"], "fps": frames_row["fps"], "indices": frames_row["indices"],
            "jpegs": frames_row["jpegs"]}


def description_rows(describer, pairs: list[tuple[dict, str]], config: dict, classes: list[str]) -> list[dict]:
    """``describe`` table rows from ``(clip, raw text)`` pairs: the leakage filter takes out emotion words,
    expressive actions (unless ``keep_expressive_actions``), the dataset's class names (with
    ``remove_class_names``) and ``extra_leakage_words``."""
    words = tuple(classes if config["remove_class_names"] else ()) + tuple(config["extra_leakage_words"])
    # absent from the settings a checkpoint recorded before describe version 4, whose shards kept them
    keep_actions = config.get("keep_expressive_actions", True)
    provenance = json.dumps(describer.provenance, sort_keys=True)
    rows = []
    for clip, raw in pairs:
        text, removed = remove_leakage(raw, words, keep_actions)
        rows.append({"id": clip["id"], "text": text, "raw": raw, "removed": removed, "backend": config["backend"],
                     "provenance": provenance})
    return rows


def run(chunk: str, frames: str, landmarks: str, output: str, failures: str, config: dict,
        progress: bool = True) -> None:
    describer = build_backend("describe", config)  # a missing model stops here, before any video
    frames_of = {r["id"]: r for r in read_rows(frames)}
    clips, failed = run_per_video("describe", [r for r in read_rows(landmarks) if r["id"] in frames_of],
                                  lambda row: describer_input(frames_of[row["id"]], row), progress=progress)
    pairs, batch_failed = describe_all(describer, clips)
    rows = description_rows(describer, pairs, config, read_chunk(chunk).get("classes", []))
    write_outputs(output, failures, rows, SCHEMA, failed + batch_failed)


def main() -> None:
    stage_main("describe", run, inputs=["chunk", "frames", "landmarks"])


if __name__ == "__main__":
    main()
