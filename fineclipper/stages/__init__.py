"""Pipeline stages. Each module has a per-chunk ``run(...)`` and a ``main()``, one :func:`~.common.stage_main` call,
that its Snakemake rule runs on one chunk (``python -m fineclipper.stages.<stage>``)."""
