"""A full-scale rehearsal without the data: every dataset's whole DAG planned, and a few chunks run for real.

    python benchmarks/rehearsal.py [--datasets dfew ferv39k mafw] [--clips-per-group 8] [--lines N]

For each dataset, stand-in frame folders are made for every clip of the shipped fold lists, with the
lists' real frame counts (one tiny JPEG, hard-linked as every frame, so millions of frames cost no
space); for MAFW, stand-in caption lists too. Then, with the dataset's own config (every experiment and
seed, the Table 3 caption pre-training and its zero-shot targets included):
  1. plan: `snakemake -n all`, the whole DAG, timed;
  2. run: `dataset.limit_per_group` clips of each group through preprocessing, training (FC-Tiny, one
     epoch, one seed, for every test group) and the report, for real, timed.
`--lines N` keeps only the first N lines of each list (a quick smoke run of the same code).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from fineclipper import REPO_ROOT
from fineclipper.datasets import SHIPPED_ANNOTATIONS
from fineclipper.datasets.captions import MAFW_CAPTION_LISTS, write_mafw_caption_list
from fineclipper.datasets.foldlists import SPECS, read_fold_lists


def lists_folder(dest: Path, lines: int | None) -> Path:
    """The shipped lists, or copies of their first ``lines`` lines."""
    if lines is None:
        return SHIPPED_ANNOTATIONS
    dest.mkdir(parents=True, exist_ok=True)
    for path in SHIPPED_ANNOTATIONS.glob("*.txt"):
        (dest / path.name).write_text("".join(path.read_text().splitlines(keepends=True)[:lines]))
    return dest


#: Hard links per file (ext4 allows 65,000): a new copy of the tiny JPEG after this many.
LINKS_PER_FILE = 60_000


def stand_in_frames(dataset: str, annotations: Path, root: Path) -> tuple[int, int, float]:
    """Frame folders for every clip of the lists, each frame a hard link to a tiny JPEG."""
    import cv2
    import numpy as np

    start = time.perf_counter()
    root.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(root / "frame.jpg"), np.random.default_rng(0).integers(0, 255, (32, 32, 3), dtype=np.uint8))
    rows, _ = read_fold_lists(SPECS[dataset], annotations, root)
    frames = 0
    for row in rows:
        folder = Path(row["source"])
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(max(1, row["num_frames"])):
            source = root / f"frame{frames // LINKS_PER_FILE}.jpg"
            if frames % LINKS_PER_FILE == 0:
                shutil.copyfile(root / "frame.jpg", source)
            (folder / f"{i:05d}.jpg").hardlink_to(source)
            frames += 1
    if dataset == "mafw":
        stand_in_captions(rows, root / "Train_Test_Set")
    return len(rows), frames, time.perf_counter() - start


def stand_in_captions(rows: list[dict], folder: Path) -> None:
    """MAFW's caption lists for the stand-in clips (one list holds them all; captions name the class)."""
    write_mafw_caption_list(folder / MAFW_CAPTION_LISTS[0],
                            [(f"{row['id']}.mp4", [row["label_name"]], f"A face showing {row['label_name']}.")
                             for row in rows])


def snakemake(workdir: Path, config: Path, *args: str) -> tuple[float, str]:
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO_ROOT / "Snakefile"), "--directory", str(workdir),
           "--configfile", str(config), "--cores", "2", *args]
    start = time.perf_counter()
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode:
        sys.exit(f"snakemake {' '.join(args)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
    return time.perf_counter() - start, result.stdout + result.stderr


def job_counts(output: str) -> dict[str, int]:
    table = output.split("Job stats:", 1)[1]
    return {k: int(v) for k, v in re.findall(r"^(\w+)\s+(\d+)$", table, re.M)}


def rehearse(dataset: str, workdir: Path, annotations: Path, clips_per_group: int) -> None:
    clips, frames, seconds = stand_in_frames(dataset, annotations, workdir / "data" / dataset)
    print(f"\n[{dataset}] {clips} stand-in clips, {frames} frames (hard links) made in {seconds:.1f} s")
    config = yaml.safe_load((REPO_ROOT / "config" / f"{dataset}.yaml").read_text())
    config["dataset"].update(root=str(workdir / "data" / dataset), annotations=str(annotations))
    plan_file = workdir / f"{dataset}-plan.yaml"
    plan_file.write_text(yaml.safe_dump(config))
    seconds, output = snakemake(workdir, plan_file, "-n", "all")
    jobs = job_counts(output)
    print(f"plan: the whole DAG, {len(config.get('experiments') or [1])} experiment(s): {jobs['total']} jobs "
          f"({', '.join(f'{k} {v}' for k, v in jobs.items() if k != 'total')}), dry run {seconds:.1f} s")
    config["dataset"]["limit_per_group"] = clips_per_group
    config["chunk_size"] = max(1, clips_per_group // 2)
    config["experiments"] = [{"name": "rehearsal", "variant": "starplus", "backbone": "FC-Tiny", "pretrained": None,
                              "seeds": [0], "train": {"model": {"num_frames": 4}, "epochs": 1, "batch_size": 2,
                                                      "workers": 0, "val_percent": 25}}]
    run_file = workdir / f"{dataset}-run.yaml"
    run_file.write_text(yaml.safe_dump(config))
    seconds, output = snakemake(workdir, run_file, "all")
    jobs = job_counts(output)
    report = workdir / "results" / dataset / "report" / "report.html"
    assert report.is_file(), f"no report at {report}"
    print(f"run: {clips_per_group} clips per group, {jobs['total']} jobs "
          f"({', '.join(f'{k} {v}' for k, v in jobs.items() if k != 'total')}) "
          f"in {seconds:.1f} s; report {report.stat().st_size / 1e3:.0f} kB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["dfew", "ferv39k", "mafw"], choices=sorted(SPECS))
    parser.add_argument("--clips-per-group", type=int, default=8)
    parser.add_argument("--lines", type=int, help="keep only the first N lines of each list (a smoke run)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        annotations = lists_folder(workdir / "lists", args.lines)
        for dataset in args.datasets:
            rehearse(dataset, workdir, annotations, args.clips_per_group)


if __name__ == "__main__":
    main()
