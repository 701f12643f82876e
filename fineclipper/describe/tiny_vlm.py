"""A Qwen2.5-VL model folder built offline, for running the ``vllm`` describer without downloading a model.

Two architectures: ``tiny`` (about 0.3M random parameters, frames capped at 112x112 px: the opt-in test
and the CPU benchmark) and ``qwen2.5-vl-7b`` (Qwen2.5-VL-7B-Instruct's architecture and token ids, no
weight file: vLLM fills random weights with ``load_format: dummy``, for GPU throughput figures). The
folder holds what vLLM and the processor read from a hub model: ``config.json``, a byte-level BPE
tokenizer trained here with Qwen's special tokens at Qwen's ids, the image and video processor configs,
the chat template and, for ``tiny``, ``model.safetensors``. A random model writes meaningless text.

Needs transformers and tokenizers (the vLLM environment has both)::

    python -m fineclipper.describe.tiny_vlm OUT_DIR [--arch tiny|qwen2.5-vl-7b]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .landmarks import FEATURES

#: Qwen's special tokens in id order; the first is ``<|endoftext|>`` (151643 in Qwen's vocabulary).
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
                  "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>",
                  "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>"]
#: Qwen2-VL's chat template: a system turn, then each turn's images, videos and text.
CHAT_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'video' %}<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif content['type'] == 'text' %}{{ content['text'] }}{% endif %}{% endfor %}{% endif %}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
#: architecture -> (text and vision settings, first special token id, vocabulary size, write weights).
#: ``None`` ids and sizes: right after the trained tokens.
ARCHITECTURES = {
    "tiny": ({
        "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 2,
        "num_key_value_heads": 1, "max_position_embeddings": 4096,
        "rope_scaling": {"type": "mrope", "mrope_section": [4, 6, 6]},  # sums to head_dim / 2 = 16
        "vision_config": {"depth": 2, "hidden_size": 64, "intermediate_size": 128, "num_heads": 2,
                          "out_hidden_size": 64, "fullatt_block_indexes": [1], "window_size": 112},
    }, None, None, True),
    "qwen2.5-vl-7b": ({
        "hidden_size": 3584, "intermediate_size": 18944, "num_hidden_layers": 28, "num_attention_heads": 28,
        "num_key_value_heads": 4, "max_position_embeddings": 128000, "sliding_window": 32768,
        "max_window_layers": 28, "rope_scaling": {"type": "mrope", "mrope_section": [16, 24, 24]},
        "vision_config": {"depth": 32, "hidden_size": 1280, "intermediate_size": 3420, "num_heads": 16,
                          "out_hidden_size": 3584, "fullatt_block_indexes": [7, 15, 23, 31], "window_size": 112},
    }, 151643, 152064, False),
}
#: vLLM's CPU build in the caller's own process, on loopback, with a 1 GiB KV cache, nothing fetched from a
#: hub (environment variables, set before vLLM is imported) ...
CPU_ENV = {"VLLM_ENABLE_V1_MULTIPROCESSING": "0", "VLLM_HOST_IP": "127.0.0.1", "GLOO_SOCKET_IFNAME": "lo",
           "VLLM_CPU_KVCACHE_SPACE": "1", "VLLM_CPU_OMP_THREADS_BIND": "nobind", "HF_HUB_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1"}
#: ... and its engine arguments (describe.engine): one process, no torch.compile (starts in 1 s, not 30 s).
CPU_ENGINE = {"distributed_executor_backend": "uni", "enforce_eager": True}
#: The tiny model's frame size cap (pixels per frame) in its processors.
TINY_MAX_PIXELS = 112 * 112
TRAINED_VOCAB = 320  # 256 byte symbols and 64 merges


def training_text() -> list[str]:
    """English about facial movements for the BPE: the paper's prompt and the landmark describer's phrases."""
    from ..shipped import shipped_path

    prompt = shipped_path("resources/prompts/describe_movements.txt").read_text()
    return [prompt] + [phrase for _, grows, shrinks in FEATURES.values() for phrase in (grows, shrinks)]


def build_tokenizer(first_special: int | None, vocab_size: int | None):
    """A fast tokenizer: byte-level BPE trained on :func:`training_text`, filler tokens up to
    ``first_special``, Qwen's special tokens from there, fillers up to ``vocab_size`` (so any id a random
    model emits decodes)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    trained = Tokenizer(models.BPE())
    trained.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trained.train_from_iterator(training_text(), trainers.BpeTrainer(
        vocab_size=TRAINED_VOCAB, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False))
    spec = json.loads(trained.to_str())["model"]
    vocab = dict(spec["vocab"])
    first_special = len(vocab) if first_special is None else first_special
    vocab_size = first_special + len(SPECIAL_TOKENS) if vocab_size is None else vocab_size
    names = {i: t for t, i in vocab.items()} | {first_special + i: t for i, t in enumerate(SPECIAL_TOKENS)}
    vocab = {names.get(i, f"<|filler_{i}|>"): i for i in range(vocab_size)}
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in spec["merges"]]
    tokenizer = Tokenizer(models.BPE(vocab, merges))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                   additional_special_tokens=SPECIAL_TOKENS[1:], model_max_length=32768)


def model_config(arch: str, tokenizer) -> dict:
    """``config.json`` of a Qwen2.5-VL model of ``arch``, with the tokenizer's special token ids."""
    settings, _, vocab_size, _ = ARCHITECTURES[arch]
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    vision = {"hidden_act": "silu", "in_chans": 3, "patch_size": 14, "spatial_patch_size": 14, "spatial_merge_size": 2,
              "temporal_patch_size": 2, "tokens_per_second": 2, **settings["vision_config"]}
    return {
        "architectures": ["Qwen2_5_VLForConditionalGeneration"], "model_type": "qwen2_5_vl",
        "hidden_act": "silu", "rms_norm_eps": 1e-6, "rope_theta": 1000000.0, "attention_dropout": 0.0,
        "initializer_range": 0.02, "use_cache": True, "use_sliding_window": False, "tie_word_embeddings": False,
        "torch_dtype": "bfloat16", **settings, "vision_config": vision,
        "vocab_size": vocab_size or len(tokenizer),
        "bos_token_id": ids["<|endoftext|>"], "eos_token_id": ids["<|im_end|>"], "pad_token_id": ids["<|endoftext|>"],
        "vision_start_token_id": ids["<|vision_start|>"], "vision_end_token_id": ids["<|vision_end|>"],
        "vision_token_id": ids["<|vision_pad|>"], "image_token_id": ids["<|image_pad|>"],
        "video_token_id": ids["<|video_pad|>"],
    }


def build_model_folder(out: str | Path, arch: str = "tiny", seed: int = 0) -> Path:
    """Write a loadable Qwen2.5-VL model folder of ``arch`` (see :data:`ARCHITECTURES`) to ``out``."""
    import torch
    from transformers import (
        GenerationConfig,
        Qwen2_5_VLConfig,
        Qwen2_5_VLForConditionalGeneration,
        Qwen2_5_VLProcessor,
        Qwen2VLImageProcessor,
        Qwen2VLVideoProcessor,
    )

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    _, first_special, vocab_size, weights = ARCHITECTURES[arch]
    tokenizer = build_tokenizer(first_special, vocab_size)
    config = model_config(arch, tokenizer)
    GenerationConfig(bos_token_id=config["bos_token_id"], eos_token_id=config["eos_token_id"],
                     pad_token_id=config["pad_token_id"]).save_pretrained(out)
    pixels = {"min_pixels": 56 * 56, "max_pixels": TINY_MAX_PIXELS} if arch == "tiny" else {}
    processor = Qwen2_5_VLProcessor(image_processor=Qwen2VLImageProcessor(**pixels), tokenizer=tokenizer,
                                    video_processor=Qwen2VLVideoProcessor(**pixels), chat_template=CHAT_TEMPLATE)
    processor.save_pretrained(out)
    if weights:
        torch.manual_seed(seed)
        model = Qwen2_5_VLForConditionalGeneration(Qwen2_5_VLConfig(**config)).to(torch.bfloat16)
        model.save_pretrained(out)
    (out / "config.json").write_text(json.dumps(config, indent=2))  # as a hub model has it (flat text keys)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out")
    parser.add_argument("--arch", choices=sorted(ARCHITECTURES), default="tiny")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random weights")
    args = parser.parse_args()
    print(build_model_folder(args.out, args.arch, args.seed))


if __name__ == "__main__":
    main()
