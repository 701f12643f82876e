"""The main job: the default config end to end (demo clips, shards, a tiny FineCLIPER, its test metrics)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_default_workflow_learns_the_demo(tmp_path):
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(tmp_path),
           "--cores", "2", "all"]
    result = subprocess.run(cmd, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((tmp_path / "results/demo/experiments/main/seed0/eval/test/metrics.json").read_text())
    print(f"demo test UAR {metrics['uar']:.3f} WAR {metrics['war']:.3f} on {metrics['samples']} clips")
    assert metrics["listed"] == metrics["evaluated"] == 20 and metrics["uar"] >= 0.85  # chance is 0.25
    again = subprocess.run([*cmd, "-n"], capture_output=True, text=True)
    assert "Nothing to be done" in again.stdout + again.stderr
