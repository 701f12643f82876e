"""Descriptions of facial movements (the high-level stream) and the label-leakage filter all backends share."""

from __future__ import annotations

__all__ = ["get_describer"]


def get_describer(backend: str, cfg: dict):
    """The ``describe.backend`` named ``backend`` (see :mod:`fineclipper.backends`), built from ``cfg``.

    A describer has ``provenance`` (what made the text), ``prepare(clip) -> clip`` (what can be done for a
    clip while the describer is busy with others: the stage runs it in a thread) and ``describe(clips) ->
    raw texts`` (of clips prepared or not); a clip is a dict with ``jpegs`` (JPEG bytes of the face crops),
    ``landmarks`` (T, 478, 3), ``detected`` (T,), ``fps`` and ``indices``. The texts still pass through
    :func:`fineclipper.describe.leakage.remove_leakage`.
    """
    from ..backends import build_backend

    return build_backend("describe", {**cfg, "backend": backend})
