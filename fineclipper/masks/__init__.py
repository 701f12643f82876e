"""Face-part label maps ("parsing maps"): the label set and the parsers that produce them."""

from .labels import LABELS, PALETTE, colorize

__all__ = ["LABELS", "PALETTE", "colorize", "get_parser"]


def get_parser(name: str, cfg: dict):
    """Return the parser for ``masks.parser``: ``parser(landmarks, (H, W), image) -> (H, W) uint8 label map``.

    A parser whose ``needs_image`` is False is called with ``image=None`` (the stage then skips decoding).
    """
    if name == "landmarks":
        from .landmarks import LandmarkParser

        return LandmarkParser(cfg)
    raise ValueError(f"masks.parser: unknown parser {name!r} (available: landmarks)")
