# Low level: face frames, cropped with a smoothed box (or resized face crops), up to max_frames per clip.


rule frames:
    input:
        chunk=CHUNK_MANIFEST,
        sources=source_inputs,
    output:
        **stage_output("frames"),
    log:
        stage_log("frames"),
    benchmark:
        stage_benchmark("frames")
    group:
        chunk_group()
    threads: 1
    resources:
        mem_mb=stage_mem_mb("frames"),
    params:
        **stage_params("frames"),
    shell:
        "{PYTHON} -m fineclipper.stages.frames --chunk {input.chunk:q} --output {output.table:q}"
        " --failures {output.failures:q} --config {params.config:q} > {log:q} 2>&1"
