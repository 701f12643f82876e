"""The SLURM profile: which cluster jobs it makes and where they go, read from dry runs and decided by the
plugin's own partition choice; and, opt-in (`pytest -m slurm`, as root), a real run of the demo through a
single-node SLURM started on this machine by tests/slurm/start.sh."""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from helpers import snakemake

from fineclipper import REPO_ROOT

pytestmark = pytest.mark.e2e
PROFILE = REPO_ROOT / "workflow" / "profiles" / "slurm"
SLURM_SCRIPTS = REPO_ROOT / "tests" / "slurm"
CHUNK_STAGES = ["describe", "describe_chunk", "frames", "landmarks", "masks", "pack"]
RUN_TIMEOUT = 600  # seconds; without a working status command Snakemake would wait forever


def write_demo_config(workdir: Path, **sections) -> Path:
    """The demo (config/config.yaml) at test size: 8 clips in 4 chunks of 2, one training epoch."""
    cfg = yaml.safe_load((REPO_ROOT / "config" / "config.yaml").read_text())
    cfg["demo"].update(clips_per_class=2, test_per_class=1, frames=8, size=160)
    cfg["chunk_size"] = 2
    cfg["train"]["epochs"] = 1
    cfg.update(sections)
    path = workdir / "config.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def cluster_jobs(dry_run: str) -> list[tuple[str | None, list[dict]]]:
    """The jobs a dry run would submit: (group name or None, [{"rule", "wildcards", "resources"}]) each.
    Jobs without a shell command (all, shards) run in the Snakemake process itself and are left out."""
    submissions, group, job = [], None, None
    for line in dry_run.splitlines():
        if m := re.match(r"\[.*\] Group job (\S+) ", line):
            group = m.group(1)
            submissions.append((group, []))
        elif m := re.match(r"(\s*)(?:local)?rule (\w+):$", line):
            if not m.group(1):
                group = None
            job = {"rule": m.group(2), "wildcards": "", "resources": {}}
        elif job and (m := re.match(r"\s+(wildcards|resources): (.*)$", line)):
            if m.group(1) == "wildcards":
                job["wildcards"] = m.group(2)
            else:
                pairs = (item.split("=", 1) for item in m.group(2).split(", "))
                job["resources"] = {k: int(v) if v.isdigit() else v for k, v in pairs}
        elif job and line.startswith("Shell command:"):
            if line != "Shell command: None":
                if group:
                    submissions[-1][1].append(job)
                else:
                    submissions.append((None, [job]))
            job = None
    return submissions


def plugin_partition(job: dict) -> str:
    """The partition snakemake-executor-plugin-slurm picks for a job from the profile's partitions.yaml."""
    from snakemake_executor_plugin_slurm.partitions import get_best_partition, read_partition_file

    partitions = read_partition_file(PROFILE / "partitions.yaml")
    fake = SimpleNamespace(name=job["rule"], threads=1, resources=job["resources"])
    return get_best_partition(partitions, fake, logging.getLogger("slurm-partitions"))


@pytest.mark.parametrize("backends, grouped", [
    ({}, CHUNK_STAGES),
    ({"masks": {"parser": "sam", "checkpoint": "sam.pth"},
      "describe": {"backend": "vllm", "model": "Qwen/Qwen2.5-VL-7B-Instruct"}}, ["frames", "landmarks"]),
])
def test_profile_groups_each_chunk_and_sends_gpu_jobs_to_the_gpu_partition(tmp_path, backends, grouped):
    """A chunk's CPU stages are one cluster job; a GPU backend's stage (and pack after it) is a job of its
    own. Every job asking for gpu=1 goes to the gpu partition, every other to cpu; training gets a day."""
    (tmp_path / "sam.pth").write_bytes(b"")
    write_demo_config(tmp_path, **backends)
    dry = snakemake(tmp_path, "-n", "--profile", str(PROFILE), "all", check=False)
    assert dry.returncode == 0, dry.stdout[-3000:] + dry.stderr[-3000:]
    submissions = cluster_jobs(dry.stdout + dry.stderr)
    groups = [jobs for name, jobs in submissions if name]
    assert len(groups) == 4 and {name for name, _ in submissions if name} == {"preprocess"}
    for jobs in groups:
        assert sorted(j["rule"] for j in jobs) == grouped and len({j["wildcards"] for j in jobs}) == 1
        assert not any(j["resources"].get("gpu") for j in jobs)
    alone = [jobs[0] for name, jobs in submissions if not name]
    gpu_rules = {"train", "evaluate"} | ({"masks", "describe"} if backends else set())
    assert {j["rule"] for j in alone if j["resources"].get("gpu")} == gpu_rules
    for job in alone:
        assert plugin_partition(job) == ("gpu" if job["resources"].get("gpu") else "cpu"), job
    train = next(j for j in alone if j["rule"] == "train")
    assert train["resources"]["runtime"] >= 1440


def chunk_of(job: dict) -> str:
    """The chunk wildcard of a planned job."""
    return re.search(r"chunk=([\w-]+)", job["wildcards"]).group(1)


@pytest.mark.parametrize("describe, extra", [
    ({"chunks_per_job": 2}, []),
    ({"backend": "vllm", "model": "Qwen/Qwen2.5-VL-7B-Instruct", "chunks_per_job": 4}, []),
    ({"backend": "vllm", "model": "Qwen/Qwen2.5-VL-7B-Instruct", "chunks_per_job": 4},
     ["--set-resources", "describe:runtime=30"]),
])
def test_a_describe_job_of_n_chunks_gets_n_stage_runtimes(tmp_path, describe, extra):
    """A describe job covering N chunks asks SLURM for N times a stage job's runtime (the profile's default),
    unless --set-resources gives describe its own. On a CPU backend the group `preprocess` holds the chunks
    of one describe job: one cluster job for those N chunks' stages, and no chunk in two groups."""
    write_demo_config(tmp_path, describe=describe)
    dry = snakemake(tmp_path, "-n", "--profile", str(PROFILE), "all", *extra, check=False)
    assert dry.returncode == 0, dry.stdout[-3000:] + dry.stderr[-3000:]
    submissions = cluster_jobs(dry.stdout + dry.stderr)
    stage_minutes = yaml.safe_load((PROFILE / "config.yaml").read_text())["default-resources"]["runtime"]
    size = describe["chunks_per_job"]
    describe_jobs = [j for _, jobs in submissions for j in jobs if j["rule"] == "describe"]
    assert len(describe_jobs) == 4 // size
    expected = 30 if extra else size * stage_minutes
    assert {j["resources"]["runtime"] for j in describe_jobs} == {expected}
    groups = [jobs for name, jobs in submissions if name]
    if describe.get("backend") == "vllm":
        assert all(plugin_partition(j) == "gpu" for j in describe_jobs)
        assert all("describe" not in {j["rule"] for j in jobs} for jobs in groups)
        return
    assert len(groups) == 4 // size
    chunks = [{chunk_of(j) for j in jobs} for jobs in groups]
    assert all(len(c) == size for c in chunks) and len(set().union(*chunks)) == 4
    for jobs in groups:
        assert sorted(j["rule"] for j in jobs) == sorted(size * CHUNK_STAGES[1:] + ["describe"])


def test_jobs_share_the_compile_cache_in_the_working_directory(tmp_path, monkeypatch):
    """A real job of the workflow (a probe rule added to our Snakefile, its shell printing the variable) sees
    TORCHINDUCTOR_CACHE_DIR under the run's working directory, not node-local /tmp; one the user set is kept.
    SLURM jobs get the same environment: the plugin submits with --export=ALL."""
    from snakemake_executor_plugin_slurm import submit_string

    write_demo_config(tmp_path)
    (tmp_path / "Probe.smk").write_text(
        f'include: "{REPO_ROOT / "Snakefile"}"\n\n'
        'rule probe:\n    output:\n        "probe.txt",\n    shell:\n'
        '        "printf %s \\"$TORCHINDUCTOR_CACHE_DIR\\" > {output}"\n')
    for user_value, expected in ((None, tmp_path / ".snakemake" / "torchinductor"), ("/scratch/inductor", None)):
        if user_value:
            monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", user_value)
        else:
            monkeypatch.delenv("TORCHINDUCTOR_CACHE_DIR", raising=False)
        (tmp_path / "probe.txt").unlink(missing_ok=True)
        snakemake(tmp_path, "--snakefile", str(tmp_path / "Probe.smk"), "--cores", "1", "probe.txt")
        assert (tmp_path / "probe.txt").read_text() == str(expected or user_value)
    assert "--export=ALL" in Path(submit_string.__file__).read_text()


# --- a real SLURM -----------------------------------------------------------------------------------------

SLURM_COMMANDS = ["munged", "munge", "unmunge", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo"]


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    """A single-node SLURM (tests/slurm/start.sh), stopped after the module; yields its state folder."""
    if os.geteuid() != 0:
        pytest.skip("the SLURM test starts daemons and writes /etc/slurm/slurm.conf: run it as root")
    missing = [c for c in SLURM_COMMANDS if not shutil.which(c)]
    if missing:
        pytest.skip(f"SLURM is not installed (no {', '.join(missing)}): "
                    "apt-get install -y slurmctld slurmd slurm-client munge")
    state = tmp_path_factory.mktemp("slurm")
    try:
        start = subprocess.run([str(SLURM_SCRIPTS / "start.sh"), str(state)], capture_output=True, text=True)
        if start.returncode:
            pytest.fail(f"tests/slurm/start.sh failed:\n{start.stdout}{start.stderr}", pytrace=False)
        yield state
    finally:
        subprocess.run([str(SLURM_SCRIPTS / "stop.sh"), str(state)], check=False)


def finished_jobs(state: Path, run_id: str) -> dict[str, dict[str, str]]:
    """SLURM job id -> fields (JobState, Partition, TimeLimit, ...) of a run's finished jobs, from the
    job completion log start.sh configures (there is no slurmdbd, so no sacct)."""
    jobs = {}
    for line in (state / "jobcomp.txt").read_text().splitlines():
        fields = dict(re.findall(r"(\w+)=(\S*)", line))
        if fields.get("Name") == run_id:
            jobs[fields["JobId"]] = fields
    return jobs


@pytest.mark.slurm
@pytest.mark.slow
def test_demo_runs_through_slurm_grouped_with_the_same_shards(slurm, tmp_path):
    """`snakemake --profile workflow/profiles/slurm all` (no --cores) on the demo, through real sbatch and
    srun: one cluster job per chunk, training and evaluation on the gpu partition (a fake GPU), and
    shards byte-identical to a local run's."""
    cluster, local = tmp_path / "cluster", tmp_path / "local"
    for workdir in (cluster, local):
        workdir.mkdir()
        write_demo_config(workdir)
    dry = snakemake(cluster, "-n", "--profile", str(PROFILE), "all", check=False)
    assert dry.returncode == 0, dry.stderr[-3000:]
    planned = cluster_jobs(dry.stdout + dry.stderr)
    ungrouped = sum(len(jobs) for _, jobs in planned)

    cpus = subprocess.run(["sinfo", "-h", "-n", "localhost", "-o", "%c"], capture_output=True, text=True).stdout
    test_speed = [  # the profile as it is; only these, for a quick run on a small node without slurmdbd
        "--slurm-status-command", "squeue",  # sacct needs slurmdbd; without it status checks fail forever
        "--slurm-init-seconds-before-status-checks", "2", "--seconds-between-status-checks", "2",
        "--max-threads", cpus.strip(),  # demo_data and train ask for 8 threads, more than the node has
    ]
    began = time.monotonic()
    run = snakemake(cluster, "--profile", str(PROFILE), "all", *test_speed, check=False, timeout=RUN_TIMEOUT)
    wall = time.monotonic() - began
    out = run.stdout + run.stderr
    assert run.returncode not in (124, 137), f"Snakemake did not finish in {RUN_TIMEOUT} s:\n{out[-4000:]}"
    assert run.returncode == 0, out[-6000:]

    run_id = re.search(r"SLURM run ID: (\S+)", out).group(1)
    # SLURM job id -> what it ran: rule_<rule>, or group_<group>_<its rules> (the plugin's log folder)
    # (the plugin shortens a long group name to its first characters and "...")
    submitted = dict(re.findall(r"has been submitted with SLURM jobid (\d+) \(log: \S*/((?:rule|group)_[\w.]+)/", out))
    finished = finished_jobs(slurm, run_id)
    assert finished.keys() == submitted.keys(), (finished.keys(), submitted)
    assert {f["JobState"] for f in finished.values()} == {"COMPLETED"}
    kinds = sorted(submitted.values())
    chunk_job = "group_preprocess_" + "_".join(CHUNK_STAGES)
    chunk_jobs = [k for k in kinds if k == chunk_job or (k.endswith("...") and chunk_job.startswith(k[:-3]))]
    assert len(chunk_jobs) == 4 and len(kinds) == len(planned) < ungrouped, kinds
    for slurm_id, kind in submitted.items():
        assert finished[slurm_id]["Partition"] == ("gpu" if kind in ("rule_train", "rule_evaluate") else "cpu"), kind
        if kind == "rule_train":
            assert finished[slurm_id]["TimeLimit"] == "1440"

    snakemake(local, "--cores", "2", "shards")
    shards = sorted(p.relative_to(cluster) for p in (cluster / "shards").rglob("*") if p.is_file())
    assert shards == sorted(p.relative_to(local) for p in (local / "shards").rglob("*") if p.is_file())
    differ = [str(p) for p in shards if (cluster / p).read_bytes() != (local / p).read_bytes()]
    assert not differ, f"shards differ between the SLURM and the local run: {differ}"
    print(f"\nSLURM run of the demo's `all`: {len(kinds)} cluster jobs submitted ({ungrouped} without grouping): "
          f"{', '.join(f'{kinds.count(k)} {k}' for k in sorted(set(kinds)))}; wall {wall:.0f} s; "
          f"{len(shards)} shard files byte-identical to a local run")
