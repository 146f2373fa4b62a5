"""What mrsim's MRD files agree on: group names, the pose convention, flags, LPS."""

from __future__ import annotations

import numpy as np

#: Group of the motion-free k-space written next to the default ``dataset`` group.
MOTION_FREE_GROUP = "dataset_motion_free"
#: Value of the ``mrsim_pose_convention`` user parameter (what ``user_float[0:7]`` holds).
POSE_CONVENTION = (
    "user_float[0:6] = tx_mm, ty_mm, tz_mm, rx_deg, ry_deg, rz_deg: true head pose of the line "
    "in the world RAS+ frame, about the FOV centre (position), R = Rz Ry Rx; "
    "user_float[6] = line time in s; user_int[0] = shot"
)
TICK_S = 2.5e-3  # acquisition_time_stamp unit (Siemens convention)
LPS = np.array([-1.0, -1.0, 1.0])
# Acquisitions that are not image lines (noise, navigators, calibration-only, ...).
SKIP_FLAGS = (
    "ACQ_IS_NOISE_MEASUREMENT",
    "ACQ_IS_NAVIGATION_DATA",
    "ACQ_IS_PHASECORR_DATA",
    "ACQ_IS_HPFEEDBACK_DATA",
    "ACQ_IS_DUMMYSCAN_DATA",
    "ACQ_IS_RTFEEDBACK_DATA",
    "ACQ_IS_SURFACECOILCORRECTIONSCAN_DATA",
    "ACQ_IS_PARALLEL_CALIBRATION",
    "ACQ_IS_PHASE_STABILIZATION_REFERENCE",
    "ACQ_IS_PHASE_STABILIZATION",
)


def ras_to_lps(v: np.ndarray) -> np.ndarray:
    """World RAS+ coordinates (or directions) -> MRD patient LPS (its own inverse)."""
    return np.asarray(v, dtype=float) * LPS


def flag(name: str) -> int:
    import ismrmrd

    return 1 << (int(getattr(ismrmrd, name)) - 1)
