"""Pipeline stages. Each module has a ``main()`` that one Snakemake rule calls on one chunk."""
