"""The pipeline configuration outside Snakemake: the same schema, the same defaults."""

from __future__ import annotations

from pathlib import Path

import yaml

from . import REPO_ROOT

SCHEMA = REPO_ROOT / "workflow" / "schemas" / "config.schema.yaml"


def _merge(base: dict, update: dict) -> dict:
    out = dict(base)
    for key, value in update.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def load_config(*paths: str | Path, overrides: dict | None = None) -> dict:
    """Merge YAML files (later ones win) and ``overrides``, validate, and fill in the defaults."""
    from snakemake.utils import validate

    config: dict = {}
    for path in paths:
        config = _merge(config, yaml.safe_load(Path(path).read_text()) or {})
    config = _merge(config, overrides or {})
    validate(config, str(SCHEMA), set_default=True)
    return config
