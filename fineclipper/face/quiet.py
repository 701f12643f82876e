"""MediaPipe and TFLite log from C++ straight to the process's stderr: a few warnings for every graph and
clip (``inference_feedback_manager``, ``landmark_projection_calculator``, absl's preamble, the XNNPACK
notice), and neither library has a setting that turns them off in this release (GLOG_minloglevel and
TF_CPP_MIN_LOG_LEVEL are ignored; mediapipe issue #5737). So their calls run with the stderr file
descriptor pointed at /dev/null; their errors still reach us as Python exceptions.
``FINECLIPPER_NATIVE_LOGS=1`` keeps the native output, for debugging."""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager


@contextmanager
def native_logs_silenced():
    """Within the block, what native code writes to file descriptor 2 goes to /dev/null."""
    if os.environ.get("FINECLIPPER_NATIVE_LOGS") == "1":
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
