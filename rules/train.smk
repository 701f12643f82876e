# The FineCLIPER model: one training run per test group (DFEW, MAFW: fold k tests on group k; otherwise the
# test group, or dataset.test_groups), evaluated on every listed clip of its test group, and zero-shot on
# the test groups of other datasets (train.zero_shot).

TRAIN_DIR = f"{RESULTS}/train"
EVAL_DIR = f"{RESULTS}/eval"
# What a training run depends on: not whether it runs (enabled) or what it is evaluated on afterwards.
TRAIN_PARAMS = json.dumps({k: v for k, v in config["train"].items() if k not in ("enabled", "zero_shot")}, sort_keys=True)


wildcard_constraints:
    run="|".join(re.escape(run) for run in PRIMARY.runs) or "^$",
    target="|".join(re.escape(name) for name in ZERO_SHOT) or "^$",


def train_targets():
    if not PRIMARY.runs:
        return []
    return [f"{EVAL_DIR}/summary.json"]


def run_chunks(run, tested):
    """Chunks a run tests (``tested``) or trains on."""
    test = set(PRIMARY.runs[run])
    return PRIMARY.chunks_in(test if tested else set(PRIMARY.groups) - test)


def evaluation_inputs(tested):
    """What an evaluation reads, for ``tested(wildcards) -> (plan, groups)``: the shards, chunk manifests
    (the listed clips) and failures tables of those groups."""

    def inputs(kind):
        def paths(wildcards):
            plan, groups = tested(wildcards)
            chunks = plan.chunks_in(groups)
            if kind == "chunks":
                return [chunk_path(plan.name, c) for c in chunks]
            return (shard_paths if kind == "shards" else failure_paths)(plan, chunks)

        return paths

    return {kind: inputs(kind) for kind in ("shards", "chunks", "failures")}


rule train:
    input:
        shards=lambda wildcards: shard_paths(PRIMARY, run_chunks(wildcards.run, tested=False)),
    output:
        best=f"{TRAIN_DIR}/{{run}}/best.pt",
        last=f"{TRAIN_DIR}/{{run}}/last.pt",
        summary=f"{TRAIN_DIR}/{{run}}/train_summary.json",
        metrics=f"{TRAIN_DIR}/{{run}}/metrics.jsonl",
    params:
        config=TRAIN_PARAMS,
        classes=json.dumps(PRIMARY.classes),
        out=lambda wildcards: f"{TRAIN_DIR}/{wildcards.run}",
    log:
        f"{LOGS}/train/{{run}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/train/{{run}}.tsv"
    threads: 8  # loader workers and intra-op threads; capped at --cores locally
    resources:
        mem_mb=16000,
        gpu=1,
    shell:
        "{PYTHON} -m fineclipper.train.main --shards {input.shards:q} --classes {params.classes:q}"
        " --out {params.out:q} --config {params.config:q} > {log:q} 2>&1"


rule evaluate:
    input:
        checkpoint=f"{TRAIN_DIR}/{{run}}/best.pt",
        **evaluation_inputs(lambda wildcards: (PRIMARY, PRIMARY.runs[wildcards.run])),
    output:
        metrics=f"{EVAL_DIR}/{{run}}/metrics.json",
        plot=f"{EVAL_DIR}/{{run}}/confusion.png",
    params:
        out=lambda wildcards, output: os.path.dirname(output.metrics),
    log:
        f"{LOGS}/evaluate/{{run}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/evaluate/{{run}}.tsv"
    threads: 8
    resources:
        mem_mb=8000,
        gpu=1,
    shell:
        "{PYTHON} -m fineclipper.train.evaluate --checkpoint {input.checkpoint:q} --shards {input.shards:q}"
        " --chunks {input.chunks:q} --failures {input.failures:q} --out {params.out:q} > {log:q} 2>&1"


rule zero_shot:
    input:
        checkpoint=f"{TRAIN_DIR}/{{run}}/best.pt",
        **evaluation_inputs(lambda wildcards: (ZERO_SHOT[wildcards.target], ZERO_SHOT[wildcards.target].test_groups)),
    output:
        metrics=f"{EVAL_DIR}/{{run}}/zero_shot_{{target}}/metrics.json",
        plot=f"{EVAL_DIR}/{{run}}/zero_shot_{{target}}/confusion.png",
    params:
        classes=lambda wildcards: json.dumps(ZERO_SHOT[wildcards.target].classes),
        out=lambda wildcards, output: os.path.dirname(output.metrics),
    log:
        f"{LOGS}/evaluate/{{run}}_zero_shot_{{target}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/evaluate/{{run}}_zero_shot_{{target}}.tsv"
    threads: 8
    resources:
        mem_mb=8000,
        gpu=1,
    shell:
        "{PYTHON} -m fineclipper.train.evaluate --checkpoint {input.checkpoint:q} --shards {input.shards:q}"
        " --chunks {input.chunks:q} --failures {input.failures:q} --classes {params.classes:q}"
        " --out {params.out:q} > {log:q} 2>&1"


rule report:
    input:
        metrics=[f"{EVAL_DIR}/{run}/metrics.json" for run in PRIMARY.runs],
        zero_shot=[f"{EVAL_DIR}/{run}/zero_shot_{t}/metrics.json" for run in PRIMARY.runs for t in ZERO_SHOT],
    output:
        f"{EVAL_DIR}/summary.json",
    log:
        f"{LOGS}/evaluate/report.log",
    shell:
        "{PYTHON} -m fineclipper.train.report --metrics {input.metrics:q} --zero-shot {input.zero_shot:q}"
        " --output {output:q} 2>&1 | tee {log:q}"
