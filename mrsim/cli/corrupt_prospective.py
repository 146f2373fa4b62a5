"""The ``--prospective`` options of ``mrsim corrupt`` (kept apart from corrupt.py).

``mrsim corrupt --trajectory true.csv --prospective persistence --latency-s 2.3`` simulates
a scan whose imaging frame follows the head once per shot with the pose an estimator
reports (:mod:`mrsim.motion.prospective`); the engine then sees, line by line, only the
residual motion ``P^-1 A``. ``--applied-poses predicted.csv`` uses a precomputed pose file
(e.g. ``python -m correctors.recentre predict true.csv -o predicted.csv``) as the estimator.

corrupt.py calls :func:`add_prospective_arguments` in its ``register`` and
:func:`prospective_trajectory` once in ``run``; nothing else there knows about it.
"""

from __future__ import annotations

import argparse

from mrsim.cli import CLIError

__all__ = ["add_prospective_arguments", "prospective_trajectory"]


def add_prospective_arguments(p: argparse.ArgumentParser) -> None:
    """Register the prospective-correction options on the ``corrupt`` parser."""
    g = p.add_argument_group(
        "prospective correction",
        "the scanner updates its frame from an estimate of the head pose "
        "(docs/motion.md, section 'Prospective correction')",
    )
    g.add_argument(
        "--prospective",
        choices=["none", "persistence", "kalman"],
        default=None,
        help="estimator of the applied pose: none, persistence (last measurement) or a "
        "constant-velocity Kalman filter extrapolating over the latency",
    )
    g.add_argument(
        "--applied-poses",
        default=None,
        metavar="FILE",
        help="precomputed applied/predicted poses (any motion format) used as the estimator",
    )
    g.add_argument(
        "--latency-s",
        type=float,
        default=0.0,
        help="delay from measurement to frame update in s (default 0)",
    )
    g.add_argument(
        "--tracking-noise-mm",
        type=float,
        default=0.0,
        help="tracking noise std per translation (mm, default 0)",
    )
    g.add_argument(
        "--tracking-noise-deg",
        type=float,
        default=0.0,
        help="tracking noise std per rotation (deg, default 0)",
    )
    g.add_argument(
        "--update",
        choices=["shot", "line"],
        default="shot",
        help="frame update once per shot (default) or before every line",
    )


def prospective_trajectory(args: argparse.Namespace, traj, schedule):
    """The trajectory the engine should see, its interpolation method and provenance.

    Without ``--prospective`` / ``--applied-poses`` returns ``(traj, "linear", None)``
    unchanged; otherwise the per-line residual as a trajectory at the line times, to be
    sampled with ``method="nearest"``.
    """
    from mrsim.motion.prospective import (
        ProspectiveSettings,
        prospective_line_poses,
        read_pose_file,
    )

    if args.prospective is None and args.applied_poses is None:
        if args.latency_s or args.tracking_noise_mm or args.tracking_noise_deg:
            raise CLIError("--latency-s / --tracking-noise-* need --prospective or --applied-poses")
        return traj, "linear", None
    if args.prospective is not None and args.applied_poses is not None:
        raise CLIError("give either --prospective or --applied-poses, not both")
    if args.mapping != "seconds":
        raise CLIError("--prospective needs --mapping seconds (latency is in scan seconds)")
    estimator = "file" if args.applied_poses is not None else args.prospective
    settings = ProspectiveSettings(
        estimator,
        latency_s=args.latency_s,
        tracking_noise_mm=args.tracking_noise_mm,
        tracking_noise_deg=args.tracking_noise_deg,
        update=args.update,
        seed=args.seed,
    )
    pose_file = None
    if args.applied_poses is not None:
        pose_file = read_pose_file(
            args.applied_poses, format=None, tr_s=args.tr_s, what="--applied-poses"
        )
    res = prospective_line_poses(
        traj,
        schedule.time_s,
        schedule.shot,
        settings,
        pose_file=pose_file,
        pose_file_name=str(args.applied_poses),
    )
    info = settings.to_dict() | {"applied_poses": args.applied_poses}
    return res.trajectory(), "nearest", info
