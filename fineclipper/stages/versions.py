"""Stage versions. Rules pass them as params, so bumping one reruns that stage and what depends on it.

Bump a stage's number whenever its code changes what it writes (Snakemake does not track imported modules).
"""

STAGE_VERSIONS = {
    "demo": 1,
    "frames": 4,
    "landmarks": 2,
    "masks": 2,
    "describe": 4,
    "pack": 5,
}
