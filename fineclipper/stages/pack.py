"""Stage ``pack``: join a chunk's stage outputs into one WebDataset shard, and write the chunk's
failures table next to it. Every manifest row of the chunk ends up in exactly one of the two."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import pyarrow as pa

from ..errors import run_command
from ..io import npy_load, read_table, write_table
from ..shards import make_sample, write_shard
from .common import FAILURE_SCHEMA, read_chunk
from .versions import STAGE_VERSIONS

log = logging.getLogger("fineclipper")
STAGES = ("frames", "landmarks", "masks", "describe")


def clip_sample(row: dict, chunk: str, fr: dict, lm: dict, mk: dict, ds: dict, caption: str | None = None) -> dict:
    """The shard sample of one clip from its manifest row, its rows of the four stage tables and its own
    caption, if it has one."""
    meta = {
        "dataset": row["dataset"], "id": row["id"], "label": row.get("label"), "label_name": row.get("label_name"),
        "group": row["group"], "chunk": chunk, "source": row["source"], "fps": fr["fps"],
        "total_frames": fr["total_frames"], "frame_indices": fr["indices"], "boxes": fr["boxes"],
        "face_detected": fr["detected"], "face_found": fr["face_found"],
        "unreadable_frames": fr["unreadable_frames"], "frames_declared": fr["frames_declared"],
        "frames_decoded": fr["frames_decoded"], "partial": fr["partial"], "landmarks_detected": lm["detected"],
        "detection_rate": sum(lm["detected"]) / max(1, len(lm["detected"])), "width": fr["width"],
        "height": fr["height"], "rotation": fr["rotation"], "description_backend": ds["backend"],
        "removed_words": ds["removed"],
        "description_provenance": json.loads(ds["provenance"]), "mask_info": json.loads(mk["info"]),
        "stage_versions": STAGE_VERSIONS,
    }
    blend = npy_load(lm["blendshapes"]) if lm.get("blendshapes") is not None else None
    return make_sample(row["id"], fr["jpegs"], mk["pngs"], npy_load(lm["landmarks"]), ds["text"], row.get("label"),
                       meta, blend, caption)


def pack_chunk(chunk_path: str, stage_tables: dict[str, str], stage_failures: dict[str, str],
               shard_path: str, failures_path: str, captions_path: str | None = None) -> dict:
    """Write the shard and the failures table of one chunk; return counts. ``captions_path``: the chunk's
    own captions (clip id -> caption), for a dataset that has them."""
    chunk = read_chunk(chunk_path)
    captions = json.loads(Path(captions_path).read_text())["captions"] if captions_path else {}
    tables = {s: {r["id"]: r for r in read_table(stage_tables[s]).to_pylist()} for s in STAGES}
    failed = {}
    for s in STAGES:
        for f in read_table(stage_failures[s]).to_pylist():
            failed.setdefault(f["id"], f)
    packed, failures = [], []
    for row in chunk["rows"]:
        vid = row["id"]
        if vid in failed:
            failures.append(failed[vid])
            continue
        missing = [s for s in STAGES if vid not in tables[s]]
        if missing:  # a stage dropped it without saying why: still recorded, never lost
            failures.append({"id": vid, "stage": missing[0], "reason": f"absent from the {missing[0]} output"})
            continue
        packed.append(row)
    ids = {r["id"] for r in chunk["rows"]}
    keys, recorded = {r["id"] for r in packed}, {f["id"] for f in failures}
    if keys & recorded or (keys | recorded) != ids or len(packed) + len(failures) != len(ids):
        raise RuntimeError(f"{chunk_path}: shard and failures do not partition the chunk's {len(ids)} videos")

    def samples():  # built one at a time as the shard is written
        for row in packed:
            yield clip_sample(row, chunk["chunk"], *(tables[s][row["id"]] for s in STAGES), captions.get(row["id"]))

    write_shard(shard_path, samples())
    write_table(failures_path, pa.Table.from_pylist(failures, schema=FAILURE_SCHEMA))
    counts = {"videos": len(ids), "packed": len(packed), "failed": len(failures)}
    if captions_path:
        counts["captioned"] = sum(captions.get(row["id"]) is not None for row in packed)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chunk", required=True)
    for s in STAGES:
        parser.add_argument(f"--{s}", required=True)
        parser.add_argument(f"--{s}-failures", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--failures", required=True)
    parser.add_argument("--captions", help="the chunk's own captions (JSON), for a dataset that has them")
    parser.add_argument("--config", default="{}")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    run_command("pack stage", pack_and_log, args)


def pack_and_log(args: argparse.Namespace) -> None:
    counts = pack_chunk(args.chunk, {s: getattr(args, s) for s in STAGES},
                        {s: getattr(args, f"{s}_failures") for s in STAGES}, args.output, args.failures, args.captions)
    log.info("pack %s: %s", args.output, json.dumps(counts))


if __name__ == "__main__":
    main()
