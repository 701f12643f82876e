"""Face-part label maps ("parsing maps"): the label set and the parsers that produce them."""

from .labels import LABELS, PALETTE, colorize

__all__ = ["LABELS", "PALETTE", "colorize", "get_parser"]


def get_parser(name: str, cfg: dict):
    """Return a parser ``(frame, landmarks) -> label map`` for ``masks.parser``."""
    if name == "landmarks":
        from .landmarks import LandmarkParser

        return LandmarkParser(cfg)
    raise ValueError(f"masks.parser: unknown parser {name!r} (available: landmarks)")
