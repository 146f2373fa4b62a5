"""ISMRMRD / MRD raw data out and in, with the true head pose of every readout.

MRD (Inati et al. 2017) is the raw-data format of Gadgetron, mrpro, MRIReco.jl, KomaMRI and
MRzero. :func:`write_ismrmrd` stores mrsim's Cartesian lines as one ``Acquisition`` per
readout in acquisition order; :func:`read_ismrmrd` reads Cartesian MRD written by mrsim or
by any other writer (e.g. the ``ismrmrd`` package's own API) into a
:class:`~mrsim.io.raw.RawData`. The layout other tools can rely on is in docs/recon.md:

* XML header: encoded and recon spaces (matrix = (readout, phase-encode 1, phase-encode 2)
  array axes, FOV in mm), encoding limits of ``kspace_encoding_step_1/2`` (centre = grid
  index ``n // 2``, the DC line), Cartesian trajectory, ``receiverChannels``, sequence
  parameters the schedule knows (MP-RAGE: TI, echo spacing, shot TR in ms), and
  ``userParameters`` with the exact NIfTI affine (``mrsim_affine``, JSON), the readout
  array axis and the pose convention.
* Per acquisition: ``idx.kspace_encode_step_1/2`` (0-based grid index), ``scan_counter``
  (acquisition order), ``acquisition_time_stamp`` (2.5 ms ticks, the Siemens convention
  that mrpro assumes), ``center_sample = n_readout // 2``, ``read_dir``/``phase_dir``/
  ``slice_dir`` (unit vectors of the readout / phase-encode 1 / phase-encode 2 array axes)
  and ``position`` (world position of voxel ``n // 2`` on every axis, the FOV centre about
  which mrsim rotates) in MRD's patient frame LPS, ``user_int[0]`` = shot, ``user_float[0:6]``
  = the line's true head pose ``tx_mm, ty_mm, tz_mm, rx_deg, ry_deg, rz_deg`` in mrsim's
  world (RAS+) convention (docs/physics.md §1), ``user_float[6]`` = line time in s.
* RAS <-> LPS: ``(x, y, z)_LPS = (-x, -y, z)_RAS`` for positions and directions; a pose
  ``(R, t)`` in RAS is ``(F R F, F t)`` in LPS with ``F = diag(-1, -1, 1)``.
* Optional: the motion-free k-space in a second group (``dataset_motion_free``, same layout,
  identity poses) and the receive maps at ``/mrsim/coil_sensitivities`` (outside the MRD
  groups, so MRD readers ignore them).

References
----------
S. J. Inati et al., "ISMRM Raw data format: A proposed standard for MRI raw datasets",
Magn. Reson. Med. 77 (2017) 411-421.

The package holds the shared layout (:mod:`.layout`), the writer (:mod:`.write`) and the
reader (:mod:`.read`).
"""

from mrsim.io.ismrmrd.layout import MOTION_FREE_GROUP, POSE_CONVENTION, ras_to_lps
from mrsim.io.ismrmrd.read import is_ismrmrd, read_ismrmrd
from mrsim.io.ismrmrd.write import write_corruption_ismrmrd, write_ismrmrd

__all__ = [
    "MOTION_FREE_GROUP",
    "POSE_CONVENTION",
    "ras_to_lps",
    "write_ismrmrd",
    "write_corruption_ismrmrd",
    "read_ismrmrd",
    "is_ismrmrd",
]
