"""QSM simulation with head motion (seed 002) and QSM reconstruction.

Forward: :mod:`~mrsim.qsm.phantom` (chi / R2* / M0 from MNI152 + nuclei, background
sources), :mod:`~mrsim.qsm.dipole` (field), :mod:`~mrsim.qsm.gre` (multi-echo signal,
noise, real MGRE input), :mod:`~mrsim.qsm.motion` (segmented k-space mixing, Eqs. 4-5).
Inverse: :mod:`~mrsim.qsm.fit`, :mod:`~mrsim.qsm.unwrap`, :mod:`~mrsim.qsm.background`,
:mod:`~mrsim.qsm.inversion`, chained by :func:`~mrsim.qsm.recon.qsm_recon`; metrics in
:mod:`~mrsim.qsm.metrics`. See docs/qsm.md.
"""

from mrsim.qsm.background import pdf, vsharp
from mrsim.qsm.dipole import dipole_field, dipole_kernel
from mrsim.qsm.fit import FieldFit, fit_field
from mrsim.qsm.gre import add_noise, echo_times, gre_signal, hz_to_ppm, load_mgre, ppm_to_hz
from mrsim.qsm.inversion import gradient_mask, tkd, tv_inversion
from mrsim.qsm.metrics import chi_metrics, xsim
from mrsim.qsm.motion import (
    B0ChangeModel,
    QSMMotionResult,
    corrupt_mgre,
    mix_approx,
    mix_exact,
    simulate_qsm_motion,
)
from mrsim.qsm.phantom import QSMPhantom, make_qsm_phantom, phantom_from_chi
from mrsim.qsm.recon import QSMRecon, brain_mask_from_magnitude, qsm_recon
from mrsim.qsm.unwrap import unwrap_graphcut, unwrap_laplacian

__all__ = [
    "B0ChangeModel", "FieldFit", "QSMMotionResult", "QSMPhantom", "QSMRecon", "add_noise",
    "brain_mask_from_magnitude", "chi_metrics", "corrupt_mgre", "dipole_field", "dipole_kernel",
    "echo_times", "fit_field", "gradient_mask", "gre_signal", "hz_to_ppm", "load_mgre",
    "make_qsm_phantom", "mix_approx", "mix_exact", "pdf", "phantom_from_chi", "ppm_to_hz",
    "qsm_recon", "simulate_qsm_motion", "tkd", "tv_inversion", "unwrap_graphcut",
    "unwrap_laplacian", "vsharp", "xsim",
]  # fmt: skip
