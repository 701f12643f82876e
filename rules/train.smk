# The FineCLIPER model: train one run per test fold (or the train/test split), evaluate on the test group.

GROUPS = sorted({chunk.rsplit("-", 1)[0] for chunk in CHUNKS})
# DFEW/MAFW: fold k tests on group k and trains on the others; otherwise the "test" group is the test set.
RUNS = {g: [g] for g in GROUPS if g.startswith("fold")} or ({"test": ["test"]} if "test" in GROUPS else {})
TRAIN_DIR = f"{RESULTS}/train"
# What a training run depends on: not whether it runs (enabled) or what it is evaluated on afterwards.
TRAIN_PARAMS = json.dumps({k: v for k, v in config["train"].items() if k not in ("enabled", "zero_shot")}, sort_keys=True)
EVAL_DIR = f"{RESULTS}/eval"


def train_targets():
    if not config["train"]["enabled"] or not RUNS:
        return []
    return [f"{EVAL_DIR}/summary.json"]


rule train:
    input:
        shards=shard_paths(),
    output:
        best=f"{TRAIN_DIR}/{{run}}/best.pt",
        last=f"{TRAIN_DIR}/{{run}}/last.pt",
        summary=f"{TRAIN_DIR}/{{run}}/train_summary.json",
        metrics=f"{TRAIN_DIR}/{{run}}/metrics.jsonl",
    params:
        config=TRAIN_PARAMS,
        classes=json.dumps(CLASSES),
        test_groups=lambda wildcards: " ".join(RUNS[wildcards.run]),
        out=lambda wildcards: f"{TRAIN_DIR}/{wildcards.run}",
    log:
        f"{LOGS}/train/{{run}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/train/{{run}}.tsv"
    threads: workflow.cores
    resources:
        mem_mb=16000,
        gpu=1,
    shell:
        "{PYTHON} -m fineclipper.train.loop --shards {input.shards:q} --classes {params.classes:q}"
        " --test-groups {params.test_groups} --out {params.out:q} --config {params.config:q} > {log:q} 2>&1"


rule evaluate:
    input:
        checkpoint=f"{TRAIN_DIR}/{{run}}/best.pt",
        shards=shard_paths(),
    output:
        metrics=f"{EVAL_DIR}/{{run}}/metrics.json",
        plot=f"{EVAL_DIR}/{{run}}/confusion.png",
    params:
        test_groups=lambda wildcards: " ".join(RUNS[wildcards.run]),
        out=lambda wildcards: f"{EVAL_DIR}/{wildcards.run}",
    log:
        f"{LOGS}/evaluate/{{run}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/evaluate/{{run}}.tsv"
    threads: workflow.cores
    resources:
        mem_mb=8000,
        gpu=1,
    shell:
        "{PYTHON} -m fineclipper.train.evaluate --checkpoint {input.checkpoint:q} --shards {input.shards:q}"
        " --test-groups {params.test_groups} --out {params.out:q} > {log:q} 2>&1"


rule zero_shot:
    input:
        checkpoint=f"{TRAIN_DIR}/{{run}}/best.pt",
        shards=shard_paths(),
    output:
        metrics=f"{EVAL_DIR}/{{run}}/zero_shot_{{target}}/metrics.json",
    params:
        test_groups=lambda wildcards: " ".join(RUNS[wildcards.run]),
        classes=lambda wildcards: json.dumps(list(SPECS[wildcards.target].classes)),
        out=lambda wildcards, output: os.path.dirname(output.metrics),
    log:
        f"{LOGS}/evaluate/{{run}}_zero_shot_{{target}}.log",
    threads: workflow.cores
    resources:
        gpu=1,
    shell:
        "{PYTHON} -m fineclipper.train.evaluate --checkpoint {input.checkpoint:q} --shards {input.shards:q}"
        " --test-groups {params.test_groups} --classes {params.classes:q} --out {params.out:q} > {log:q} 2>&1"


rule report:
    input:
        metrics=[f"{EVAL_DIR}/{run}/metrics.json" for run in RUNS],
        zero_shot=[f"{EVAL_DIR}/{run}/zero_shot_{t}/metrics.json" for run in RUNS for t in config["train"]["zero_shot"]],
    output:
        f"{EVAL_DIR}/summary.json",
    log:
        f"{LOGS}/evaluate/report.log",
    shell:
        "{PYTHON} -m fineclipper.train.report --metrics {input.metrics:q} --zero-shot {input.zero_shot:q}"
        " --output {output:q} 2>&1 | tee {log:q}"
