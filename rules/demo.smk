# The built-in demo dataset: expression clips rendered from scikit-image's astronaut photograph.


rule demo_data:
    output:
        directory(paths.demo_videos(RESULTS_ROOT, "{dataset}")),
    log:
        f"{LOGS_ROOT}/{{dataset}}/demo_data.log",
    benchmark:
        f"{RESULTS_ROOT}/{{dataset}}/benchmarks/demo_data.tsv"
    threads: 8  # capped at --cores locally
    resources:
        mem_mb=2000,
    params:
        **stage_params("demo"),
    shell:
        "{PYTHON} -m fineclipper.cli demo-data --out {output:q} --config {params.config:q}"
        " --workers {threads} --name {wildcards.dataset} > {log:q} 2>&1"
