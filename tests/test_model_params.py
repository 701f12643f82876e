"""The default ModelConfig at ViT-B/16 (random weights, nothing downloaded) against the paper's counts."""

import pytest

from fineclipper.model import PAPER_TUNABLE_M, VARIANTS, FineCLIPER, ModelConfig


@pytest.mark.slow
def test_each_variant_within_a_quarter_of_the_paper_and_ordered():
    totals = {v: FineCLIPER(ModelConfig(pretrained=None, variant=v), ["a", "b"]).count_parameters()["total_tunable"]
              for v in VARIANTS}
    for variant, total in totals.items():
        assert total / 1e6 / PAPER_TUNABLE_M[variant] == pytest.approx(1, abs=0.25), variant
    assert totals["base"] < totals["plus"] and totals["base"] < totals["star"] < totals["starplus"]
