"""FineCLIPER: staged preprocessing for dynamic facial expression recognition and a CLIP-adapter model."""

from pathlib import Path

__version__ = "0.1.0"

#: Repository root when running from a checkout (resources/, config/ live here).
REPO_ROOT = Path(__file__).resolve().parent.parent
