"""Stage ``pack``: join a chunk's stage outputs into one WebDataset shard, and write the chunk's
failures table next to it. Every manifest row of the chunk ends up in exactly one of the two."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pyarrow as pa

from ..chunks import FAILURE_SCHEMA, read_chunk
from ..io import npy_load, read_table, write_table
from ..paths import STAGES
from ..shards import make_sample, write_shard
from .common import stage_main
from .versions import STAGE_VERSIONS

log = logging.getLogger("fineclipper")


def clip_sample(row: dict, chunk: str, frames: dict, landmarks: dict, masks: dict, description: dict,
                caption: str | None = None) -> dict:
    """The shard sample of one clip from its manifest row, its rows of the four stage tables and its own
    caption, if it has one."""
    meta = {
        "dataset": row["dataset"], "id": row["id"], "label": row.get("label"), "label_name": row.get("label_name"),
        "group": row["group"], "chunk": chunk, "source": row["source"], "fps": frames["fps"],
        "total_frames": frames["total_frames"], "frame_indices": frames["indices"], "boxes": frames["boxes"],
        "face_detected": frames["detected"], "face_found": frames["face_found"],
        "unreadable_frames": frames["unreadable_frames"], "frames_declared": frames["frames_declared"],
        "frames_decoded": frames["frames_decoded"], "partial": frames["partial"],
        "landmarks_detected": landmarks["detected"],
        "detection_rate": sum(landmarks["detected"]) / max(1, len(landmarks["detected"])), "width": frames["width"],
        "height": frames["height"], "rotation": frames["rotation"], "description_backend": description["backend"],
        "removed_words": description["removed"],
        "description_provenance": json.loads(description["provenance"]), "mask_info": json.loads(masks["info"]),
        "stage_versions": STAGE_VERSIONS,
    }
    blendshapes = npy_load(landmarks["blendshapes"]) if landmarks.get("blendshapes") is not None else None
    return make_sample(row["id"], frames["jpegs"], masks["pngs"], npy_load(landmarks["landmarks"]), description["text"],
                       row.get("label"), meta, blendshapes, caption)


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


def run(chunk: str, output: str, failures: str, config: dict, captions: str | None = None, **stage_paths: str) -> None:
    """:func:`pack_chunk` from the command line's paths: ``--<stage>`` (its table) and ``--<stage>-failures``
    for each of :data:`~fineclipper.paths.STAGES`; ``config`` is unused (pack has no settings)."""
    counts = pack_chunk(chunk, {s: stage_paths[s] for s in STAGES}, {s: stage_paths[f"{s}_failures"] for s in STAGES},
                        output, failures, captions)
    log.info("pack %s: %s", output, json.dumps(counts))


def main() -> None:
    stage_main("pack", run, inputs=["chunk", *STAGES, *(f"{s}-failures" for s in STAGES)],
               optional_inputs=["captions"])


if __name__ == "__main__":
    main()
