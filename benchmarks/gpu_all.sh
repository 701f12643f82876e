#!/usr/bin/env bash
# The GPU figures of issue 15 in one run on one device: the training step, the SAM masks stage and the vLLM
# describer, each today's path beside the optimised one in the same process, so before/after share a device.
#
#   bash benchmarks/gpu_all.sh [LOG]          (LOG: where the output goes as well, default gpu_all.log)
#
# Run it from the repository root in an environment with the project's packages (PYTHON picks the
# interpreter, default python3). faces.npz (FACES) carries the SAM benchmark's frames and landmarks to a
# machine without MediaPipe: make it beforehand with `python benchmarks/sam.py --save-inputs faces.npz`; where
# MediaPipe imports, the script makes it. The describer runs where vLLM imports (VLLM_PYTHON, default PYTHON),
# with Qwen2.5-VL-7B's architecture and random weights (nothing is downloaded). Each part has its own time
# limit (seconds: STEP_LIMIT, SAM_LIMIT, DESCRIBE_LIMIT), so one that hangs leaves the others their figures;
# with the defaults the whole run ends within 9 minutes.
set -uo pipefail
cd "$(dirname "$0")/.."
log=${1:-gpu_all.log}
python=${PYTHON:-python3}
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
faces=${FACES:-faces.npz}

part() {  # part LIMIT TITLE COMMAND...: run one benchmark under its time limit, say how it ended
    local limit=$1 title=$2
    shift 2
    echo "=== $title ($(date -u +%H:%M:%S), limit ${limit} s): $*"
    timeout "$limit" "$@"
    local status=$?
    [[ $status == 0 ]] || echo "=== $title ended with status $status$([[ $status == 124 ]] && echo ': time limit')"
}

{
    "$python" -c "import torch; print('device:', torch.cuda.get_device_name() if torch.cuda.is_available() else 'none (CPU)', '| torch', torch.__version__)"
    nvidia-smi --query-gpu=name,memory.total,clocks.max.sm --format=csv,noheader 2>/dev/null
    part "${STEP_LIMIT:-240}" "training step, ViT-B/16 starplus, batch 32 x 16 frames: eager (every block checkpointed) vs optimised" \
        "$python" benchmarks/gpu_step.py --clip-model ViT-B-16 --batch-size 32 --frames 16 --steps 20
    part "${STEP_LIMIT:-240}" "training step, ViT-L/14 starplus, batch 32: the optimised path fits (peak reserved memory)" \
        "$python" benchmarks/gpu_step.py --clip-model ViT-L-14 --batch-size 32 --frames 16 --steps 5 --path optimised
    if [[ ! -f $faces ]] && "$python" -c "import mediapipe" 2>/dev/null; then
        "$python" benchmarks/sam.py --save-inputs "$faces"
    fi
    if [[ -f $faces ]]; then
        part "${SAM_LIMIT:-180}" "SAM masks stage, ViT-B random weights: reference vs fast path" \
            "$python" benchmarks/sam.py --inputs "$faces" --model-type vit_b --clips 4 --frames 48 --batch-size 16
    else
        echo "=== SAM masks stage: skipped, no $faces (make it with: python benchmarks/sam.py --save-inputs $faces)"
    fi
    if "${VLLM_PYTHON:-$python}" -c "import vllm" 2>/dev/null; then
        part "${DESCRIBE_LIMIT:-300}" "vLLM describer, Qwen2.5-VL-7B architecture, random weights, 8 frames at 224 px" \
            "${VLLM_PYTHON:-$python}" benchmarks/describe.py --arch qwen2.5-vl-7b --chunks 1
    else
        echo "=== vLLM describer: skipped, vLLM does not import here (VLLM_PYTHON names an environment that has it)"
    fi
} 2>&1 | tee "$log"
