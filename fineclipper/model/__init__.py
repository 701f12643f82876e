"""The FineCLIPER model: frozen open_clip CLIP with adapters, three visual streams, label and description text.

``ModelConfig`` and ``VARIANTS`` live in :mod:`fineclipper.model.config`, which needs no torch; the model
itself is imported on first use, so reading a config stays light.
"""

from .config import PAPER_TUNABLE_M, STREAMS, VARIANTS, ModelConfig, check_model_config

__all__ = ["FineCLIPER", "ModelConfig", "PAPER_TUNABLE_M", "STREAMS", "VARIANTS", "check_model_config"]


def __getattr__(name: str):
    if name == "FineCLIPER":
        from .fineclipper import FineCLIPER

        return FineCLIPER
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
