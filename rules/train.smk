# The FineCLIPER model: every experiment (config `experiments`) trained with each of its seeds once per test
# group (DFEW, MAFW: fold k tests on group k; otherwise the test group, or dataset.test_groups), supervised or
# by caption pre-training (train.objective), evaluated on every listed clip of its test group and of other
# datasets' test groups (zero-shot after caption pre-training, train.zero_shot; cross-dataset transfer after
# supervised training, train.cross_dataset), and a report that sets the results beside the paper's.
from fineclipper.shipped import shipped_path


rule train:
    input:
        shards=lambda wildcards: shard_paths(PRIMARY, run_chunks(wildcards.run, tested=False)),
    output:
        best=f"{RUN_DIR}/train/{{run}}/{paths.BEST_CHECKPOINT}",
        last=f"{RUN_DIR}/train/{{run}}/{paths.LAST_CHECKPOINT}",
        summary=f"{RUN_DIR}/train/{{run}}/{paths.TRAIN_SUMMARY}",
        metrics=f"{RUN_DIR}/train/{{run}}/{paths.TRAIN_CURVES}",
    log:
        f"{LOGS}/train/{{experiment}}/seed{{seed}}/{{run}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/train/{{experiment}}/seed{{seed}}/{{run}}.tsv"
    threads: 8  # loader workers and intra-op threads; capped at --cores locally
    resources:
        mem_mb=16000,
        gpu=1,
    params:
        config=train_params,
        classes=json.dumps(PRIMARY.classes),
        preprocessing=PREPROCESSING,
        out=lambda wildcards, output: os.path.dirname(output.best),
    shell:
        "{PYTHON} -m fineclipper.train.main --shards {input.shards:q} --classes {params.classes:q}"
        " --out {params.out:q} --config {params.config:q} --preprocessing {params.preprocessing:q} > {log:q} 2>&1"


rule evaluate:
    input:
        **evaluation_inputs(lambda wildcards: (PRIMARY, PRIMARY.runs[wildcards.run])),
        checkpoint=rules.train.output.best,
    output:
        metrics=f"{RUN_DIR}/eval/{{run}}/{paths.EVAL_METRICS}",
        plot=f"{RUN_DIR}/eval/{{run}}/{paths.CONFUSION_PLOT}",
    log:
        f"{LOGS}/evaluate/{{experiment}}/seed{{seed}}/{{run}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/evaluate/{{experiment}}/seed{{seed}}/{{run}}.tsv"
    threads: 8
    resources:
        mem_mb=8000,
        gpu=1,
    params:
        out=lambda wildcards, output: os.path.dirname(output.metrics),
    shell:
        "{PYTHON} -m fineclipper.train.evaluate --checkpoint {input.checkpoint:q} --shards {input.shards:q}"
        " --chunks {input.chunks:q} --failures {input.failures:q} --out {params.out:q} > {log:q} 2>&1"


rule evaluate_other:
    input:
        **evaluation_inputs(lambda wildcards: (OTHERS[wildcards.target], OTHERS[wildcards.target].test_groups)),
        checkpoint=rules.train.output.best,
    output:
        metrics=f"{RUN_DIR}/eval/{{run}}/{{protocol}}_{{target}}/{paths.EVAL_METRICS}",
        plot=f"{RUN_DIR}/eval/{{run}}/{{protocol}}_{{target}}/{paths.CONFUSION_PLOT}",
    log:
        f"{LOGS}/evaluate/{{experiment}}/seed{{seed}}/{{run}}_{{protocol}}_{{target}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/evaluate/{{experiment}}/seed{{seed}}/{{run}}_{{protocol}}_{{target}}.tsv"
    threads: 8
    resources:
        mem_mb=8000,
        gpu=1,
    params:
        classes=lambda wildcards: json.dumps(OTHERS[wildcards.target].classes),
        out=lambda wildcards, output: os.path.dirname(output.metrics),
    shell:
        "{PYTHON} -m fineclipper.train.evaluate --checkpoint {input.checkpoint:q} --shards {input.shards:q}"
        " --chunks {input.chunks:q} --failures {input.failures:q} --classes {params.classes:q}"
        " --protocol {wildcards.protocol} --out {params.out:q} > {log:q} 2>&1"


rule report:
    input:
        metrics=run_outputs(rules.evaluate.output.metrics, tested_only=True),
        curves=run_outputs(rules.train.output.metrics),
        summaries=run_outputs(rules.train.output.summary),
        other=other_dataset_outputs(rules.evaluate_other.output.metrics),
        preprocessing=summary_path(PRIMARY.name),
    output:
        html=f"{REPORT_DIR}/report.html",
        summary=f"{REPORT_DIR}/summary.json",
    log:
        f"{LOGS}/report.log",
    params:
        dataset=PRIMARY.name,
        paper=str(shipped_path("resources/paper_results.yaml")),
    shell:
        "{PYTHON} -m fineclipper.train.report --dataset {params.dataset} --metrics {input.metrics:q}"
        " --curves {input.curves:q} --train-summaries {input.summaries:q} --other {input.other:q} --preprocessing {input.preprocessing:q}"
        " --paper {params.paper:q} --output {output.summary:q} --html {output.html:q} 2>&1 | tee {log:q}"
