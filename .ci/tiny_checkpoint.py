"""An untrained checkpoint of the demo's tiny model, for .ci/run to check an installed wheel with.

    python .ci/tiny_checkpoint.py CONFIG OUT

The config's model (FC-Tiny: random frozen CLIP, fresh adapters), classes and preprocessing sections, saved
as training saves ``best.pt``: what ``fineclipper predict`` reads. The library makes it; nothing is trained.
"""

from __future__ import annotations

import sys

from fineclipper.config import load_config, preprocessing_settings
from fineclipper.datasets import class_names
from fineclipper.stages.versions import STAGE_VERSIONS
from fineclipper.train.checkpoint import build_model, checkpoint_state, save_checkpoint


def write_untrained_checkpoint(config_path: str, out: str) -> None:
    """The config's model, untrained, as a checkpoint at ``out``, recording the config's preprocessing."""
    config = load_config(config_path)
    model = build_model(config["train"]["model"], class_names(config["dataset"], config["demo"]), "cpu")
    state = checkpoint_state(model, config["train"], epoch=0, preprocessing={**preprocessing_settings(config),
                                                                             "stage_versions": dict(STAGE_VERSIONS)})
    save_checkpoint(out, state)
    print(f"wrote {out}: untrained {model.cfg.clip_model}, classes {', '.join(model.class_names)}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    write_untrained_checkpoint(*sys.argv[1:])
