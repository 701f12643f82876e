"""The vllm describer without vLLM: its config errors, and the video it hands the engine."""

import importlib.util
import io

import numpy as np
import pytest
from PIL import Image

from fineclipper.config import load_config
from fineclipper.describe import get_describer
from fineclipper.describe.vllm import chosen_frames, prompt_file, video_input


def _describe_config(**settings) -> dict:
    return load_config(overrides={"describe": {"backend": "vllm", **settings}})["describe"]


def _jpeg(width: int, height: int, shade: int) -> bytes:
    data = io.BytesIO()
    Image.fromarray(np.full((height, width, 3), shade, np.uint8)).save(data, "JPEG")
    return data.getvalue()


def test_model_is_required():
    with pytest.raises(ValueError, match="describe.model: the vllm backend needs a model"):
        _describe_config()


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vLLM is installed here")
def test_missing_vllm_says_how_to_set_it_up():
    with pytest.raises(ImportError, match=r"vLLM is not installed .*workflow/envs/vllm-venv.sh.*--sdm conda"):
        get_describer("vllm", _describe_config(model="Qwen/Qwen2.5-VL-7B-Instruct"))


#: The MLLM prompt word for word as the paper prints it (quoted in the design notes, section 4).
PAPER_PROMPT = ("You are a facial expression analyst. Identify emotions by analyzing the detailed movements of "
                "various facial features (mouth, chin, eyes, etc.) and implied actions (breathing rate, gaze "
                "direction) across a sequence. Provide a detailed description of the movements of various facial "
                "features and implied actions concisely.")


def test_default_prompt_is_the_papers():
    assert prompt_file(_describe_config(model="m")).read_text() == PAPER_PROMPT + "\n"


def test_frames_spread_over_the_clip():
    assert chosen_frames(24, 8) == [0, 3, 7, 10, 13, 16, 20, 23]
    assert chosen_frames(5, 8) == [0, 1, 2, 3, 4]


def test_video_input_shrinks_frames_and_keeps_their_timing():
    clip = {"jpegs": [_jpeg(320, 240, 10 * i) for i in range(12)], "fps": 30.0, "indices": list(range(0, 48, 4))}
    frames, meta = video_input(clip, frames=4, max_pixels=224 * 224, fallback_fps=25.0)
    assert frames.dtype == np.uint8 and frames.shape[0] == 4 and frames.shape[1] * frames.shape[2] <= 224 * 224
    assert abs(frames.shape[2] / frames.shape[1] - 320 / 240) < 0.02
    assert meta["frames_indices"] == [0, 16, 28, 44] and meta["total_num_frames"] == 45 and meta["fps"] == 30.0
    assert meta["do_sample_frames"] is False and abs(frames[-1].mean() - 110) < 3
    frame_folder = {**clip, "fps": 0.0}
    assert video_input(frame_folder, 4, 224 * 224, 25.0)[1]["fps"] == 25.0
