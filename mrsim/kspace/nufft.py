"""Type-2 NUFFT backends: a Cartesian image evaluated at arbitrary k-space points.

One function, :func:`nufft_type2`, with two backends:

* ``"finufft"`` (default): the Flatiron Institute NUFFT (Barnett et al. 2019), with a
  configurable tolerance ``eps`` (relative l2 error), thread count and upsampling factor.
  Single precision is used when ``eps >= 1e-5`` (bulk data), double precision otherwise
  (validation).
* ``"sigpy"``: sigpy's Kaiser-Bessel gridding NUFFT, used as an independent cross-check.
  Its kernel width is chosen from ``eps`` (oversampling 2); its accuracy floor is ~1e-7.

Convention (the one of :mod:`mrsim.kspace.fft`): the image sample at index ``j`` sits at
position ``j - n // 2`` (in voxels) and the k-space point ``u`` is given in cycles per FOV
along each axis, so the function returns

    F(u) = sum_j f_j exp(-i 2 pi sum_a u_a (j_a - n_a // 2) / n_a)

without normalisation (multiply by ``1 / sqrt(N)`` to match :func:`fft_centered` at grid
points). The band of the image is ``|u_a| <= n_a / 2``; points in ``(n_a / 2, 3 n_a / 2]``
are evaluated periodically (the DTFT of the samples), which the caller may mask.

References
----------
A. H. Barnett, J. Magland, L. af Klinteberg, "A parallel nonuniform fast Fourier transform
library based on an 'exponential of semicircle' kernel", SIAM J. Sci. Comput. 41 (2019).
"""

from __future__ import annotations

import os

import numpy as np

__all__ = ["BACKENDS", "nufft_type2", "default_nthreads", "single_precision"]

BACKENDS = ("finufft", "sigpy")


def default_nthreads() -> int:
    """Threads used when ``nthreads=None``: the CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - non-Linux
        return max(1, os.cpu_count() or 1)


def single_precision(eps: float) -> bool:
    """Whether a tolerance is served in single precision (complex64): ``eps >= 1e-5``."""
    return float(eps) >= 1e-5


def nufft_type2(
    image: np.ndarray,
    points: np.ndarray,
    backend: str = "finufft",
    eps: float = 1e-6,
    nthreads: int | None = None,
    upsampfac: float | None = None,
) -> np.ndarray:
    """Evaluate the DTFT of a Cartesian image at non-uniform k-space points.

    Parameters
    ----------
    image : ndarray, shape (*n) or (B, *n)
        Image with 2 or 3 spatial axes; an optional leading batch axis is transformed with
        the same points in the same call (e.g. echoes).
    points : sequence of ndim arrays of shape (M,), or ndarray (ndim, M)
        k-space positions in radians per voxel, ``x_a = 2 pi u_a / n_a`` for ``u_a`` in
        cycles/FOV; each must lie in ``[-3 pi, 3 pi]``. Contiguous arrays of the working
        precision (float32 when ``eps >= 1e-5``) are used without a copy.
    backend : {"finufft", "sigpy"}
    eps : float
        Requested relative accuracy.
    nthreads : int, optional
        Threads; default :func:`default_nthreads`.
    upsampfac : float, optional
        finufft upsampling factor: 1.25 is faster for eps >= ~1e-9 at large point counts,
        2.0 is finufft's classic choice. Default: 1.25 in single precision, else finufft's
        own choice. Ignored by sigpy.

    Returns
    -------
    ndarray, shape (M,) or (B, M)
        complex64 when ``eps >= 1e-5`` else complex128.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    eps = float(eps)
    if not 0 < eps < 1:
        raise ValueError(f"eps must be in (0, 1), got {eps}")
    points = [np.asarray(p).reshape(-1) for p in points]
    nd = len(points)
    if nd not in (2, 3) or any(p.shape != points[0].shape for p in points):
        raise ValueError("points must be 2 or 3 arrays (one per axis) of the same length M")
    if image.ndim not in (nd, nd + 1):
        raise ValueError(f"image must have {nd} axes (+1 batch axis), got shape {image.shape}")
    single = single_precision(eps)
    cdt = np.complex64 if single else np.complex128
    rdt = np.float32 if single else np.float64
    nthreads = default_nthreads() if nthreads is None else int(nthreads)
    if backend == "finufft":
        import finufft

        f = np.ascontiguousarray(image, dtype=cdt)
        n_modes = f.shape[-nd:]
        n_trans = f.shape[0] if f.ndim == nd + 1 else 1
        opts = {"nthreads": nthreads}
        if upsampfac is not None:
            opts["upsampfac"] = float(upsampfac)
        elif single:
            opts["upsampfac"] = 1.25
        plan = finufft.Plan(2, n_modes, n_trans=n_trans, eps=eps, isign=-1, dtype=cdt, **opts)
        coords = [np.ascontiguousarray(p, dtype=rdt) for p in points]
        plan.setpts(*coords)
        return plan.execute(f)
    # sigpy: coordinates in cycles/FOV, orthonormal scaling; undo it to match finufft.
    import sigpy

    n_modes = image.shape[-nd:]
    width = int(np.clip(np.ceil(-np.log10(eps)) + 1, 4, 8))
    u = np.stack([points[a].astype(np.float64) * n_modes[a] / (2 * np.pi) for a in range(nd)], -1)
    out = sigpy.nufft(np.asarray(image, dtype=np.complex128), u, oversamp=2.0, width=width)
    return (out * np.sqrt(float(np.prod(n_modes)))).astype(cdt)
