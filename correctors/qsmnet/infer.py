"""qsmnet inference: load UNet + PReNet, correct chi volumes and chi NIfTI files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from correctors.common.checkpoints import load_checkpoint, load_verified, shipped_weights_dir
from correctors.mcnet.train import select_device
from correctors.qsmnet.model import CHI_SCALE_PPM, PReNet, UNet3D, build_prenet, build_unet
from mrsim.errors import MrsimInputError

__all__ = [
    "Corrector",
    "load_model",
    "unet_volume",
    "prenet_volume",
    "correct_volume",
    "correct_nifti",
]


@dataclass
class Corrector:
    """A trained UNet (+ optional PReNet), the slice axis and the training voxel size."""

    unet: UNet3D
    prenet: PReNet | None
    slice_axis: int = 2
    voxel_size_mm: tuple[float, ...] | None = None
    card: dict | None = None


def load_model(path: str | Path | None = None, device: str | None = None) -> Corrector:
    """Load ``model.pt`` (UNet + PReNet), ``unet.pt`` (UNet only) or a training directory.

    ``None`` loads the shipped weights ``correctors/weights/qsmnet/`` after checking
    their sha256 against the model card.
    """
    dev = select_device(device)
    card = None
    if path is None:
        ck, card = load_verified(shipped_weights_dir("qsmnet"), map_location=dev)
    else:
        p = Path(path)
        if p.is_dir():
            p = p / "model.pt"
        ck = load_checkpoint(p, map_location=dev)
    if "unet" not in ck or "unet_config" not in ck:
        raise MrsimInputError(f"{path}: not a qsmnet checkpoint (no 'unet' / 'unet_config')")
    unet = build_unet(ck["unet_config"]).to(dev)
    unet.load_state_dict(ck["unet"])
    prenet = None
    if "prenet" in ck:
        prenet = build_prenet(ck["prenet_config"]).to(dev)
        prenet.load_state_dict(ck["prenet"])
        prenet.eval()
    vox = ck.get("voxel_size_mm")
    return Corrector(
        unet.eval(),
        prenet,
        int(ck.get("slice_axis", 2)),
        None if vox is None else tuple(float(v) for v in vox),
        card,
    )


@torch.no_grad()
def unet_volume(model: Corrector, chi_ppm: np.ndarray) -> np.ndarray:
    """The UNet stage on a whole 3D chi map (ppm), zero-padded to its size multiple."""
    v = np.asarray(chi_ppm, dtype=np.float32)
    if v.ndim != 3:
        raise MrsimInputError(f"chi must be a 3D volume, got shape {v.shape}")
    dev = next(model.unet.parameters()).device
    m = model.unet.config.multiple
    pad = [(0, (-n) % m) for n in v.shape]
    x = torch.from_numpy(np.pad(v, pad))[None, None].to(dev) / CHI_SCALE_PPM
    y = (model.unet(x)[0, 0] * CHI_SCALE_PPM).cpu().numpy()
    return np.ascontiguousarray(y[tuple(slice(0, n) for n in v.shape)], dtype=np.float32)


@torch.no_grad()
def prenet_volume(model: Corrector, chi_ppm: np.ndarray, batch_size: int = 16) -> np.ndarray:
    """The PReNet stage, slice by slice along ``model.slice_axis``."""
    v = np.asarray(chi_ppm, dtype=np.float32)
    if model.prenet is None:
        return v.copy()
    dev = next(model.prenet.parameters()).device
    stack = np.moveaxis(v, model.slice_axis, 0)
    out = np.empty_like(stack)
    for i in range(0, stack.shape[0], batch_size):
        x = torch.from_numpy(np.ascontiguousarray(stack[i : i + batch_size]))[:, None].to(dev)
        out[i : i + batch_size] = (model.prenet(x / CHI_SCALE_PPM) * CHI_SCALE_PPM)[:, 0].cpu()
    return np.ascontiguousarray(np.moveaxis(out, 0, model.slice_axis))


def correct_volume(
    model: Corrector, chi_ppm: np.ndarray, *, use_prenet: bool = True, batch_size: int = 16
) -> np.ndarray:
    """Correct a 3D chi map (ppm): UNet on the whole volume, then PReNet slice by slice.

    The volume is zero-padded to a multiple of the UNet's size multiple and cropped
    back. Returns float32 ppm of the input's shape.
    """
    y = unet_volume(model, chi_ppm)
    return prenet_volume(model, y, batch_size) if use_prenet else y


def _check_affine(affine: np.ndarray, path: Path, model: Corrector, any_voxel_size: bool) -> None:
    from mrsim.io.nifti import voxel_size_mm

    a = np.asarray(affine, float)
    if a.shape != (4, 4) or not np.all(np.isfinite(a)):
        raise MrsimInputError(f"{path}: affine must be a finite 4x4 matrix, got {a.tolist()}")
    if abs(np.linalg.det(a[:3, :3])) < 1e-9 or not np.allclose(a[3], [0, 0, 0, 1]):
        raise MrsimInputError(
            f"{path}: affine is singular or not homogeneous ({a.tolist()}); expected a "
            "voxel-to-world (RAS mm) affine with non-zero voxel sizes"
        )
    if model.voxel_size_mm is not None and not any_voxel_size:
        vox = voxel_size_mm(a)
        ratio = vox / np.asarray(model.voxel_size_mm)
        if np.any(ratio > 2) or np.any(ratio < 0.5):
            raise MrsimInputError(
                f"{path}: voxel size {np.round(vox, 3).tolist()} mm (from the affine) is more "
                f"than 2x off the model's training voxel size {list(model.voxel_size_mm)} mm; "
                "resample the chi map or pass --any-voxel-size"
            )


def correct_nifti(
    model: Corrector | str | Path | None,
    in_path: str | Path,
    out_path: str | Path,
    *,
    use_prenet: bool = True,
    any_voxel_size: bool = False,
    device: str | None = None,
) -> np.ndarray:
    """Correct a chi NIfTI (ppm, 3D, real) and save it with the input's affine."""
    import nibabel as nib

    from mrsim.io.nifti import save_volume

    p = Path(in_path)
    if not p.exists():
        raise MrsimInputError(f"{p}: no such file (expected a 3D chi NIfTI in ppm)")
    try:
        img = nib.load(str(p))
        raw = np.asanyarray(img.dataobj)
    except Exception as exc:  # nibabel raises several types for bad files
        raise MrsimInputError(f"{p}: not a readable NIfTI file ({exc})") from None
    while raw.ndim > 3 and raw.shape[-1] == 1:
        raw = raw[..., 0]
    if raw.ndim != 3:
        raise MrsimInputError(
            f"{p}: expected a 3D chi map (X, Y, Z) in ppm, got shape {raw.shape}; "
            "give one volume (e.g. not the multi-echo magnitude / phase)"
        )
    if np.iscomplexobj(raw):
        raise MrsimInputError(
            f"{p}: data are complex ({raw.dtype}); qsmnet corrects real susceptibility maps "
            "(ppm), reconstruct chi first (mrsim qsm recon)"
        )
    if not np.all(np.isfinite(raw)):
        raise MrsimInputError(f"{p}: {int(np.sum(~np.isfinite(raw)))} voxels are NaN or inf")
    if not isinstance(model, Corrector):
        model = load_model(model, device)
    _check_affine(img.affine, p, model, any_voxel_size)
    out = correct_volume(model, raw.astype(np.float32), use_prenet=use_prenet)
    save_volume(out_path, out, np.asarray(img.affine, float))
    return out
