"""The pipeline configuration outside Snakemake: the same schema, the same defaults, the same checks."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from . import REPO_ROOT
from .errors import ConfigError
from .paths import STAGES
from .shipped import shipped_path

SCHEMA = shipped_path("workflow/schemas/config.schema.yaml")
#: The project's own dataset configs, which train.zero_shot and train.cross_dataset may name by dataset alone.
CONFIG_DIR = REPO_ROOT / "config"


def merge(base: dict, update: dict) -> dict:
    """``update`` merged into ``base``, dictionaries key by key (as Snakemake merges config files)."""
    out = dict(base)
    for key, value in update.items():
        out[key] = merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def preprocessing_settings(config: dict) -> dict:
    """The per-chunk stages' sections of a config: the preprocessing that builds the shards, which every
    checkpoint records (what ``fineclipper predict`` runs on new videos)."""
    return {stage: config[stage] for stage in STAGES}


def load_config(*paths: str | Path, overrides: dict | None = None) -> dict:
    """Merge YAML files (later ones win) and ``overrides`` over the schema's defaults, validate, check."""
    config: dict = {}
    for path in paths:
        config = merge(config, yaml.safe_load(Path(path).read_text()) or {})
    return validate_config(merge(config, overrides or {}))


@lru_cache(maxsize=1)
def _validator():
    import jsonschema

    return jsonschema.Draft202012Validator(yaml.safe_load(SCHEMA.read_text()))


def validate_config(config: dict) -> dict:
    """Validate against the schema (filling in its defaults) and check what the schema cannot say; a bad
    value is a :class:`ConfigError` naming the key."""
    import jsonschema
    from snakemake.utils import validate

    error = jsonschema.exceptions.best_match(_validator().iter_errors(config))
    if error is not None:
        key = ".".join(str(p) for p in error.absolute_path) or "config"
        raise ConfigError(f"{key}: {error.message}")
    validate(config, str(SCHEMA), set_default=True)
    try:
        check_config(config)
    except (TypeError, ValueError) as e:
        raise ConfigError(str(e)) from None
    return config


def check_config(config: dict) -> None:
    """What the schema cannot say: the model's keys, enough frames per clip for the model to train on, and a
    describe model where the backend needs one."""
    from .describe.vllm import configured_model
    from .model.config import check_model_config

    if config["describe"]["backend"] == "vllm":
        configured_model(config["describe"])

    check_other_datasets(config["train"])
    model = check_model_config(config["train"]["model"])
    if config["train"]["objective"] == "captions" and model.n_ctx:
        raise ValueError(f"train.model.n_ctx: {model.n_ctx} learnable context tokens in the label prompts, but caption "
                         "pre-training reads no label prompt, so they would stay random and enter every label text "
                         "at test; set it to 0 with train.objective: captions")
    if config["train"]["enabled"] and config["frames"]["max_frames"] < model.num_frames:
        raise ValueError(f"frames.max_frames ({config['frames']['max_frames']}) is below train.model.num_frames "
                         f"({model.num_frames}): the shards must keep at least as many frames per clip as the "
                         "model samples, or training has nothing to choose from")


def check_other_datasets(train: dict) -> None:
    """Another dataset's test clips measure zero-shot recognition only for a model that read no label
    (caption pre-training); for a supervised model they measure cross-dataset transfer. Each key belongs to
    its objective, so no output is ever named for what it does not measure."""
    if train["objective"] == "labels" and train["zero_shot"]:
        raise ValueError("train.zero_shot: zero-shot evaluation is for a caption-pre-trained model (train.objective: "
                         "captions); a supervised model scored on another dataset is cross-dataset transfer: "
                         "train.cross_dataset")
    if train["objective"] == "captions" and train["cross_dataset"]:
        raise ValueError("train.cross_dataset: a caption-pre-trained model read no label, so another dataset's test "
                         "clips score it zero-shot: list them in train.zero_shot")


def dataset_config_path(ref: str) -> Path:
    """A dataset config named by a train.zero_shot or train.cross_dataset entry: ``dfew``, ``ferv39k``,
    ``mafw`` (the project's ``config/<name>.yaml``) or the path of a config file."""
    path = Path(ref)
    if path.suffix in (".yaml", ".yml"):
        if not path.is_file():
            raise FileNotFoundError(f"config file {ref} not found (named by train.zero_shot or train.cross_dataset)")
        return path
    if (CONFIG_DIR / f"{ref}.yaml").is_file() and ref != "config":
        return CONFIG_DIR / f"{ref}.yaml"
    datasets = ", ".join(sorted(p.stem for p in CONFIG_DIR.glob("*.yaml") if p.stem != "config"))
    raise ValueError(f"train.zero_shot/cross_dataset: {ref!r} is neither a config file (.yaml) nor one of the "
                     f"project's datasets ({datasets})")
