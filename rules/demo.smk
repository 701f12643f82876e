# The built-in demo dataset: expression clips rendered from scikit-image's astronaut photograph.


rule demo_data:
    output:
        [row["source"] for row in MANIFEST] if config["dataset"]["format"] == "demo" else [],
    params:
        **stage_params("demo"),
        videos=f"{RESULTS}/videos",
    log:
        f"{LOGS}/demo_data.log",
    benchmark:
        f"{RESULTS}/benchmarks/demo_data.tsv"
    threads: workflow.cores
    resources:
        mem_mb=2000,
    shell:
        "{PYTHON} -m fineclipper.cli demo-data --out {params.videos:q} --config {params.config:q}"
        " --workers {threads} --name {DATASET} > {log:q} 2>&1"
