"""Stage ``describe``: a text description of the facial movements of each clip, from the configured
backend, passed through the label-leakage filter."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from ..describe import get_describer
from ..describe.leakage import remove_leakage
from ..io import npy_load
from .common import read_chunk, read_rows, run_per_video, stage_args, write_outputs

SCHEMA = pa.schema([
    ("id", pa.string()),
    ("text", pa.string()),  # after the leakage filter: what the shard stores
    ("raw", pa.string()),  # the backend's own words
    ("removed", pa.list_(pa.string())),  # words the filter took out
    ("backend", pa.string()),
])


def run(chunk: str, frames: str, landmarks: str, output: str, failures: str, config: dict,
        progress: bool = True) -> None:
    describer = get_describer(config["backend"], config)
    class_words = sorted({r["label_name"] for r in read_chunk(chunk)["rows"]}) if config["remove_class_names"] else []
    meta_of = {r["id"]: r for r in read_rows(frames)}
    rows = [r for r in read_rows(landmarks) if r["id"] in meta_of]

    def process(row: dict) -> dict:
        meta = meta_of[row["id"]]
        clip = {"id": row["id"], "landmarks": npy_load(row["landmarks"]).astype(np.float32),
                "detected": row["detected"], "fps": meta["fps"], "indices": meta["indices"], "jpegs": meta["jpegs"]}
        raw = describer(clip)
        text, removed = remove_leakage(raw, tuple(class_words) + tuple(config["extra_leakage_words"]))
        return {"id": row["id"], "text": text, "raw": raw, "removed": removed, "backend": config["backend"]}

    results, failed = run_per_video("describe", rows, process, progress=progress)
    write_outputs(output, failures, results, SCHEMA, failed)


def main() -> None:
    args = stage_args(__doc__, ["chunk", "frames", "landmarks"])
    run(args.chunk, args.frames, args.landmarks, args.output, args.failures, args.config)


if __name__ == "__main__":
    main()
