"""``mrsim phantom``: write the embedded phantoms as NIfTI files."""

from __future__ import annotations

import argparse

import numpy as np

from mrsim.cli import add_command
from mrsim.cli.arg_types import positive_int, positive_mm
from mrsim.errors import MrsimInputError
from mrsim.io.nifti import save_volume
from mrsim.phantoms.mni152 import KINDS, load_mni152
from mrsim.phantoms.shepp_logan import shepp_logan_image

EXAMPLES = """examples:
  mrsim phantom mni152 --kind t1 -o t1.nii.gz
  mrsim phantom mni152 --kind gm --shape 128 128 128 --voxel-size 1.5 -o gm.nii.gz
  mrsim phantom shepp-logan --shape 128 128 128 -o sl.nii.gz
  mrsim phantom head -o head.nii.gz --labels labels.nii.gz
  mrsim phantom head --shape 88 128 128 --voxel-size 2 -o head2mm.nii.gz
"""


def centred_affine(shape: tuple[int, ...], voxel_size_mm: float) -> np.ndarray:
    """RAS affine with the world origin at the FOV centre, voxel ``n // 2``."""
    affine = np.diag([voxel_size_mm] * 3 + [1.0])
    affine[:3, 3] = -voxel_size_mm * (np.asarray(shape) // 2)
    return affine


def _write_head(args: argparse.Namespace) -> int:
    import json

    from mrsim.io.atomic import atomic_path
    from mrsim.phantoms.head import DEFAULT_SHAPE, make_head
    from mrsim.signal.mprage import ADNI_3T

    shape = tuple(args.shape or DEFAULT_SHAPE)
    head = make_head(shape, args.voxel_size)
    image = np.abs(head.mprage_image(ADNI_3T))
    save_volume(args.output, image.astype(np.float32), head.affine)
    print(
        f"wrote {args.output}: full-head phantom, MP-RAGE contrast (ADNI 3 T protocol, "
        f"k-space-centre echo, |signal| / M0), shape {image.shape}, voxel {args.voxel_size} mm"
    )
    if args.labels:
        save_volume(args.labels, head.labels, head.affine)
        side = _sidecar_path(args.labels)
        with atomic_path(side) as tmp, open(tmp, "w") as f:
            json.dump({**head.sidecar(), "protocol": ADNI_3T.to_dict()}, f, indent=2)
        print(f"wrote {args.labels} and {side}: label map and its names / tissue table")
    return 0


def _sidecar_path(path: str) -> str:
    for ext in (".nii.gz", ".nii"):
        if path.endswith(ext):
            return path[: -len(ext)] + ".json"
    return path + ".json"


def run(args: argparse.Namespace) -> int:
    from mrsim.io.output_set import check_writable

    check_writable(args.output, "-o/--output")
    if args.labels:
        check_writable(args.labels, "--labels")
    if args.which == "head":
        return _write_head(args)
    if args.labels:
        raise MrsimInputError("--labels is only for 'mrsim phantom head'")
    if args.which == "mni152":
        data, affine = load_mni152(args.kind, shape=args.shape, voxel_size_mm=args.voxel_size)
        label = f"MNI152 {args.kind}"
    else:
        shape = tuple(args.shape or (128, 128, 128))
        data = shepp_logan_image(shape, voxel_size_mm=args.voxel_size).astype(np.float32)
        affine = centred_affine(shape, args.voxel_size)
        label = "3D Shepp-Logan (band-limited, from its analytic Fourier transform)"
    save_volume(args.output, data, affine)
    print(f"wrote {args.output}: {label}, shape {data.shape}, voxel {args.voxel_size} mm")
    return 0


def register(subparsers: argparse._SubParsersAction, name: str, help_text: str) -> None:
    p = add_command(subparsers, name, help_text, __doc__, EXAMPLES)
    p.add_argument("which", choices=["mni152", "shepp-logan", "head"], help="phantom to write")
    p.add_argument("--kind", choices=KINDS, default="t1", help="MNI152 volume (default t1)")
    p.add_argument("--shape", type=positive_int, nargs=3, metavar=("NX", "NY", "NZ"), help="matrix")
    p.add_argument(
        "--voxel-size", type=positive_mm, default=1.0, help="voxel size in mm (default 1)"
    )
    p.add_argument("-o", "--output", required=True, help="output .nii.gz")
    p.add_argument(
        "--labels",
        default=None,
        help="head only: also write the label map (.nii.gz) and a JSON sidecar naming labels",
    )
    p.set_defaults(func=run)
