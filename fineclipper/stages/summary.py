"""The end-of-run summary: videos per group packed and failed, failure reasons, and the strict check."""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

import numpy as np

from ..chunks import read_chunk
from ..io import read_table, write_json
from ..shards import iter_metadata
from .common import stage_main


def distribution(values: list[float], bins) -> dict:
    """Quartiles and a histogram of per-clip values."""
    if not values:
        return {"count": 0}
    counts, edges = np.histogram(values, bins=bins)
    q = np.percentile(values, [0, 25, 50, 75, 100])
    return {"count": len(values), "min": float(q[0]), "q1": float(q[1]), "median": float(q[2]), "q3": float(q[3]),
            "max": float(q[4]), "histogram": {"edges": edges.tolist(), "counts": counts.tolist()}}


def reason_kind(reason: str, source: str) -> str:
    """What a failure reason says, without what differs from clip to clip: the clip's source path becomes
    ``<source>``, numbers ``N``, and the details (after the first ``": "``, in brackets) go. Failures of one
    kind count together; the failures tables keep each clip's own reason."""
    for path in {source, str(Path(source))}:
        reason = reason.replace(path, "<source>")
    kind = re.sub(r"\s*\(.*", "", reason.split(": ")[0])
    return re.sub(r"\d+", "N", kind)


def summarize(chunks: list[str], shards: list[str], failures: list[str]) -> dict:
    """Count videos, packed samples and failures per group; count failure reasons by stage and kind (see
    :func:`reason_kind`); describe the packed clips (stored frames, face and landmark detection, unreadable
    frames, partial clips: fewer frames decoded than their source declares)."""
    total, packed, failed = Counter(), Counter(), Counter()
    reasons: Counter = Counter()
    examples = []
    frames, landmark_rates, face_found, unreadable, partial = [], [], Counter(), 0, 0
    for chunk_path, shard, fail in zip(chunks, shards, failures):
        chunk = read_chunk(chunk_path)
        group = chunk["rows"][0]["group"] if chunk["rows"] else "?"
        sources = {row["id"]: row["source"] for row in chunk["rows"]}
        total[group] += len(chunk["rows"])
        for meta in iter_metadata(shard):
            packed[group] += 1
            frames.append(len(meta["frame_indices"]))
            landmark_rates.append(meta["detection_rate"])
            face_found[{True: "found", False: "not found (whole frames kept)", None: "not searched (crop: none)"}[
                meta.get("face_found")]] += 1
            unreadable += meta.get("unreadable_frames", 0)
            partial += bool(meta.get("partial"))
        for f in read_table(fail).to_pylist():
            failed[group] += 1
            reasons[f"{f['stage']}: {reason_kind(f['reason'], sources.get(f['id'], ''))}"] += 1
            if len(examples) < 20:
                examples.append(f)
    n, bad = sum(total.values()), sum(failed.values())
    return {"videos": n, "packed": sum(packed.values()), "failed": bad, "failed_fraction": bad / max(1, n),
            "groups": {g: {"videos": total[g], "packed": packed[g], "failed": failed[g]} for g in sorted(total)},
            "failure_reasons": dict(reasons.most_common()), "failure_examples": examples,
            "frames_per_clip": distribution(frames, bins=min(20, max(frames, default=1))),
            "landmark_detection_rate": distribution(landmark_rates, bins=np.linspace(0, 1, 11)),
            "face_detector": dict(face_found), "unreadable_frames": unreadable, "partial_clips": partial}


def run(chunks: list[str], shards: list[str], failures: list[str], output: str, config: dict) -> None:
    """Write the summary of a dataset's chunks (their manifests, shards and failures tables, in one order) and
    print it; more failures than ``max_failed_fraction`` stop the run with ``strict``, else warn."""
    summary = summarize(chunks, shards, failures)
    if summary["packed"] + summary["failed"] != summary["videos"]:
        sys.exit(f"summary: {summary['packed']} packed + {summary['failed']} failed != {summary['videos']} videos")
    lines = [f"{summary['packed']} of {summary['videos']} videos packed, {summary['failed']} failed"]
    lines += [f"  {g}: {c['packed']}/{c['videos']} packed" for g, c in summary["groups"].items()]
    lines += [f"  failure {reason}: {n}" for reason, n in summary["failure_reasons"].items()]
    if summary["partial_clips"]:
        lines.append(f"  partial: {summary['partial_clips']} packed clips have fewer frames than their source "
                     "declares (frames_declared, frames_decoded in their json)")
    print("\n".join(lines), file=sys.stderr)
    limit = config.get("max_failed_fraction", 1.0)
    tables = ", ".join(f"{folder}/*.failures.parquet" for folder in sorted({str(Path(f).parent) for f in failures}))
    message = (f"{summary['failed_fraction']:.1%} of videos failed, more than max_failed_fraction {limit:.1%}; "
               f"see {tables}")
    if summary["failed_fraction"] > limit and config.get("strict"):
        sys.exit(f"failures.strict: {message}")
    write_json(output, summary)
    if summary["failed_fraction"] > limit:
        print(f"warning (failures.strict: false): {message}", file=sys.stderr)


def main() -> None:
    stage_main("summary", run, inputs=[], listed_inputs=["chunks", "shards", "failures"], writes_failures=False)


if __name__ == "__main__":
    main()
