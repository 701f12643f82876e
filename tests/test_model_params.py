"""The default ModelConfig's tunable parameters (random weights, nothing downloaded) against the paper's counts."""

import pytest

from fineclipper.model import PAPER_TUNABLE_M, VARIANTS
from fineclipper.model.params import paper_tunable_counts, tunable_counts, tunable_rows


@pytest.mark.slow
def test_each_variant_within_a_quarter_of_the_paper_and_ordered():
    """Our counts at ViT-B/16, exactly (random weights: the architecture alone fixes them), each within a
    quarter of Table 1's and in its order."""
    totals = {v: tunable_counts("ViT-B-16", v)["total_tunable"] for v in VARIANTS}
    assert totals == {"base": 11_885_057, "star": 17_659_524, "plus": 12_684_547, "starplus": 18_459_014}
    for variant, total in totals.items():
        assert total / 1e6 / PAPER_TUNABLE_M[variant] == pytest.approx(1, abs=0.25), variant
    assert totals["base"] < totals["plus"] and totals["base"] < totals["star"] < totals["starplus"]


def test_the_paper_counts_are_table_1_and_table_8():
    rows = paper_tunable_counts()
    assert {r["variant"]: r["paper_m"] for r in rows if r["where"] == "Table 1"} == PAPER_TUNABLE_M
    assert all(r["backbone"] == "ViT-B-16" for r in rows if r["where"] == "Table 1")
    assert {(r["backbone"], r["variant"], r["paper_m"]) for r in rows if r["where"] == "Table 8"} == {
        ("ViT-B-32", "starplus", 20), ("ViT-L-14", "starplus", 20)}


def test_exact_counts_of_fc_tiny():
    assert {v: tunable_counts("FC-Tiny", v)["total_tunable"] for v in VARIANTS} == {
        "base": 45057, "star": 113428, "plus": 47379, "starplus": 115750}


def adapters(blocks: int, width: int, hidden: int, per_block: int) -> int:
    """Parameters of ``per_block`` down/up adapters (with biases) in each of ``blocks`` blocks."""
    return blocks * per_block * (2 * width * hidden + hidden + width)


def test_vit_b32_beside_table_8():
    counts = tunable_counts("ViT-B-32", "starplus")  # 12 blocks, vision 768 wide, text 512, 16 frames
    assert counts["visual.frames.spatial"] == adapters(12, 768, 96, 2)
    assert counts["visual.frames.temporal"] == adapters(12, 768, 192, 1) + 16 * 768
    assert counts["visual.parsing.spatial"] == counts["visual.landmarks.spatial"] == adapters(12, 768, 24, 2)
    assert counts["text.positive"] == counts["text.negative"] == adapters(12, 512, 64, 2)
    assert counts["description"] == adapters(12, 512, 32, 2)
    [row] = tunable_rows(("ViT-B-32",))
    assert row == {"where": "Table 8", "variant": "starplus", "backbone": "ViT-B-32", "paper_m": 20,
                   "ours_m": 18.459014, "ratio": pytest.approx(18.459014 / 20)}
    assert counts["total_tunable"] == 18_459_014
