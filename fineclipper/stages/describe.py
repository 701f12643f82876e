"""Stage ``describe``: a text description of the facial movements of each clip, from the configured
backend, passed through the label-leakage filter."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from ..describe import get_describer
from ..describe.leakage import remove_leakage
from .common import npy_load, read_chunk, read_rows, run_per_video, stage_args, write_outputs

SCHEMA = pa.schema([
    ("id", pa.string()),
    ("text", pa.string()),  # after the leakage filter: what the shard stores
    ("raw", pa.string()),  # the backend's own words
    ("removed", pa.list_(pa.string())),  # words the filter took out
    ("backend", pa.string()),
])


def main() -> None:
    args = stage_args(__doc__, ["chunk", "frames", "landmarks"])
    cfg = args.config
    describer = get_describer(cfg["backend"], cfg)
    class_words = sorted({r["label_name"] for r in read_chunk(args.chunk)["rows"]}) if cfg["remove_class_names"] else []
    frames = {r["id"]: r for r in read_rows(args.frames)}
    rows = [r for r in read_rows(args.landmarks) if r["id"] in frames]

    def process(row: dict) -> dict:
        meta = frames[row["id"]]
        clip = {"id": row["id"], "landmarks": npy_load(row["landmarks"]).astype(np.float32),
                "detected": row["detected"], "fps": meta["fps"], "indices": meta["indices"], "jpegs": meta["jpegs"]}
        raw = describer(clip)
        text, removed = remove_leakage(raw, tuple(class_words) + tuple(cfg["extra_leakage_words"]))
        return {"id": row["id"], "text": text, "raw": raw, "removed": removed, "backend": cfg["backend"]}

    results, failures = run_per_video("describe", rows, process)
    write_outputs(args.output, args.failures, results, SCHEMA, failures)


if __name__ == "__main__":
    main()
