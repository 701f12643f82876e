"""Checkpoints: the tunable weights and what rebuilds the model around them, saved atomically and loaded
safely (``weights_only=True``: tensors, numbers, strings, lists and dicts, nothing executable)."""

from __future__ import annotations

from pathlib import Path

import torch

from ..io import atomic_path
from ..model import FineCLIPER, ModelConfig
from ..model.clip import local_architecture, use_recorded_architecture


def save_checkpoint(path: str | Path, state: dict) -> None:
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


#: What a trained model's checkpoint holds at least (see ``checkpoint_state``).
TRAINED_KEYS = ("model", "model_config", "classes")


def load_checkpoint(path: str | Path, device="cpu") -> dict:
    """A checkpoint's state; a missing file, or one torch cannot read back (cut short, not written by
    ``torch.save``, or holding more than tensors and plain data), is a clear error naming it."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except Exception as error:  # torch reports a bad file with many types: RuntimeError, EOFError, KeyError, ...
        reason = str(error).strip().split(". ")[0].splitlines()[0] if str(error).strip() else type(error).__name__
        raise ValueError(f"checkpoint {path} cannot be read ({reason}): the file is cut short or is not a "
                         "checkpoint") from None
    if not isinstance(state, dict):
        raise ValueError(f"checkpoint {path} holds a {type(state).__name__}, not a checkpoint's dict")
    return state


def build_model(model_cfg: dict, classes: list[str], device) -> FineCLIPER:
    """A FineCLIPER from a ``train.model`` section (frozen CLIP built or loaded, adapters fresh); on CUDA,
    with ``frozen_bf16``, the frozen CLIP's matmul weights stored in bf16 (it runs under bf16 autocast there)."""
    model = FineCLIPER(ModelConfig(**model_cfg), classes).to(device)
    if torch.device(device).type == "cuda" and model.cfg.frozen_bf16:
        model.store_frozen_in_bf16()
    return model


def load_trained(path: str | Path, device) -> tuple[FineCLIPER, dict]:
    """The model a checkpoint was trained as, with its tunable weights, and the checkpoint's state."""
    state = load_checkpoint(path, device)
    missing = [key for key in TRAINED_KEYS if key not in state]
    if missing:
        raise ValueError(f"checkpoint {path} is not a FineCLIPER checkpoint: it has no "
                         f"{', '.join(missing)} (its keys: {', '.join(map(str, list(state)[:10])) or 'none'})")
    use_recorded_architecture(state["model_config"]["clip_model"], state.get("clip", {}).get("architecture"), path)
    # checkpoints from before model.render drew their streams on a black canvas; the training speed switches
    # do not carry over: no gradients here (no checkpointing), and no compiling but on a GPU
    settings = {"render": "canvas", **state["model_config"], "checkpointing": False}
    settings["compile"] = settings.get("compile", False) and torch.device(device).type == "cuda"
    model = build_model(settings, state["classes"], device)
    model.load_tunable_state_dict(state["model"])
    return model, state


def checkpoint_state(model: FineCLIPER, cfg: dict, epoch: int, preprocessing: dict) -> dict:
    """What ``best.pt`` holds: tunable weights, model config (with the CLIP model's name and pretrained
    tag, and its architecture where open_clip does not define it), classes, the epoch, the train settings,
    and the preprocessing that built the training shards (each stage's settings and version): everything
    needed to run the model on new videos."""
    return {"model": model.tunable_state_dict(), "model_config": model.cfg.to_dict(), "classes": model.class_names,
            "epoch": epoch, "train_config": {k: v for k, v in cfg.items() if k != "model"},
            "clip": {"model": model.cfg.clip_model, "pretrained": model.cfg.pretrained,
                     "architecture": local_architecture(model.cfg.clip_model)},
            "preprocessing": preprocessing}
