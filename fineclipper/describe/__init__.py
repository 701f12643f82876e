"""Descriptions of facial movements (the high-level stream) and the label-leakage filter all backends share."""

from __future__ import annotations

__all__ = ["get_describer"]


def get_describer(backend: str, cfg: dict):
    """Return a describer ``(clip) -> raw text`` for ``describe.backend``.

    ``clip`` is a dict with ``jpegs`` (JPEG bytes of the face crops), ``landmarks`` (T, 478, 3), ``detected`` (T,),
    ``fps`` and ``indices``. The text still passes through :func:`fineclipper.describe.leakage.remove_leakage`.
    """
    if backend == "landmarks":
        from .landmarks import LandmarkDescriber

        return LandmarkDescriber(cfg)
    raise ValueError(f"describe.backend: unknown backend {backend!r} (available: landmarks)")
