"""Scheduling cost of the whole FERV39k DAG: the real lists (38,935 clips), stand-in frame folders.

    python benchmarks/dag.py [--annotations resources/annotations/dfer-clip] [--chunk-size 250]

Creates a stand-in FERV39K folder tree (one empty folder per clip) in a temporary directory, then times
`snakemake -n all` (parse, manifest, chunk plan, DAG) and a no-op rerun (`snakemake all` with every
output present and up to date). Targets: each under 20 s.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from fineclipper import REPO_ROOT, paths
from fineclipper.datasets import SHIPPED_ANNOTATIONS
from fineclipper.datasets.foldlists import SPECS, read_fold_lists


def snakemake(workdir: Path, *args: str) -> tuple[float, str]:
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO_ROOT / "Snakefile"), "--directory", str(workdir),
           "--configfile", str(workdir / "config.yaml"), "--cores", "32", *args]
    start = time.perf_counter()
    result = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode:
        sys.exit(f"snakemake {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return seconds, result.stdout + result.stderr


def stand_in_outputs(workdir: Path, chunks: list[str]) -> None:
    """Empty files for every output, written in DAG order so each is newer than its inputs."""
    results, shards = str(workdir / "results"), str(workdir / "shards")

    def touch(path: str) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).touch()

    for stage in paths.STAGES:
        for c in chunks:
            table = paths.stage_table(results, "ferv39k", stage, c)
            touch(table)
            touch(paths.failures_beside(table))
        time.sleep(0.02)
    for c in chunks:
        touch(paths.shard(shards, "ferv39k", c))
        touch(paths.failures_beside(paths.shard(shards, "ferv39k", c)))
    time.sleep(0.02)
    touch(paths.summary(results, "ferv39k"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--annotations", default=str(SHIPPED_ANNOTATIONS))
    parser.add_argument("--chunk-size", type=int, default=250)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        root = workdir / "FERV39K"
        start = time.perf_counter()
        rows, _ = read_fold_lists(SPECS["ferv39k"], args.annotations, root)
        for row in rows:
            Path(row["source"]).mkdir(parents=True)
        print(f"{len(rows)} stand-in frame folders made in {time.perf_counter() - start:.1f} s")
        config = {"dataset": {"name": "ferv39k", "format": "ferv39k", "root": str(root),
                              "annotations": str(Path(args.annotations).resolve())},
                  "chunk_size": args.chunk_size, "train": {"enabled": False}}
        (workdir / "config.yaml").write_text(yaml.safe_dump(config))

        dry, out = snakemake(workdir, "-n", "all")
        jobs = out.split("Job stats:", 1)[1].split("total", 1)[1].split()[0]
        chunks = sorted(p.stem for p in (workdir / "results" / "ferv39k" / "chunks").glob("*.json"))
        print(f"dry run of the whole DAG ({len(chunks)} chunks, {jobs} jobs): {dry:.1f} s (target < 20 s)")
        stand_in_outputs(workdir, chunks)
        noop, out = snakemake(workdir, "all")
        assert "Nothing to be done" in out, out[-2000:]
        print(f"no-op rerun with every output up to date: {noop:.1f} s (target < 20 s)")


if __name__ == "__main__":
    main()
