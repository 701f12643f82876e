"""The FineCLIPER model: frozen open_clip CLIP with adapters, three visual streams, label and description text."""

from .fineclipper import VARIANTS, FineCLIPER, ModelConfig

__all__ = ["FineCLIPER", "ModelConfig", "VARIANTS"]
