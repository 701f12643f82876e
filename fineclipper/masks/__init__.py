"""Face-part label maps ("parsing maps"): the label set and the parsers that produce them."""

from .labels import LABELS, PALETTE, colorize

__all__ = ["LABELS", "PALETTE", "colorize", "get_parser"]


def get_parser(name: str, cfg: dict):
    """The ``masks.parser`` backend named ``name`` (see :mod:`fineclipper.backends`), built from ``cfg``."""
    from ..backends import build_backend

    return build_backend("masks", {**cfg, "parser": name})
