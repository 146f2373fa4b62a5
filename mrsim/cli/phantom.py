"""``mrsim phantom``: write the embedded phantoms as NIfTI files."""

from __future__ import annotations

import argparse

from mrsim.io.nifti import save_volume
from mrsim.phantoms.mni152 import KINDS, load_mni152

EXAMPLES = """examples:
  mrsim phantom mni152 --kind t1 -o t1.nii.gz
  mrsim phantom mni152 --kind gm --shape 128 128 128 --voxel-size 1.5 -o gm.nii.gz
"""


def run(args: argparse.Namespace) -> int:
    data, affine = load_mni152(args.kind, shape=args.shape, voxel_size_mm=args.voxel_size)
    save_volume(args.output, data, affine)
    print(f"wrote {args.output}: MNI152 {args.kind}, shape {data.shape}")
    return 0


def register(subparsers: argparse._SubParsersAction, name: str, help_text: str) -> None:
    p = subparsers.add_parser(
        name,
        help=help_text,
        description=__doc__,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("which", choices=["mni152"], help="phantom to write")
    p.add_argument("--kind", choices=KINDS, default="t1", help="volume (default t1)")
    p.add_argument("--shape", type=int, nargs=3, metavar=("NX", "NY", "NZ"), help="matrix")
    p.add_argument("--voxel-size", type=float, default=1.0, help="voxel size in mm (default 1)")
    p.add_argument("-o", "--output", required=True, help="output .nii.gz")
    p.set_defaults(func=run)
