"""Known-motion reconstruction: conjugate gradients on the normal equations.

With the per-line poses known, the image is the regularised least-squares solution

    x* = argmin_x ||A x - y||^2 + lambda ||x||^2,   (A^H A + lambda I) x* = A^H y,

``A`` the :class:`~mrsim.kspace.operator.MotionOperator` (rotated, translated k-space
samples, optionally per coil). The operator is scaled like the orthonormal FFT (``A = P F``
without motion), so ``lambda`` is relative to the unit eigenvalues of a fully sampled,
motion-free ``A^H A``. CG (Hestenes & Stiefel 1952) solves the Hermitian positive
(semi-)definite system; each iteration is one ``normal`` (one forward + one adjoint).

This is the reference every retrospective corrector should be compared with: the best that
the data allow when the motion is known exactly (retroMoCoBox's core idea, Gallichan et al.
2016). Where rotations leave gaps in k-space the normal matrix is singular there; CG
started from zero stays in its range (the minimum-norm solution) and ``lambda > 0`` damps
the ill-conditioned directions.

References
----------
M. R. Hestenes, E. Stiefel, "Methods of conjugate gradients for solving linear systems",
J. Res. Natl. Bur. Stand. 49 (1952).
D. Gallichan, J. P. Marques, R. Gruetter, "Retrospective correction of involuntary
microscopic head movement using highly accelerated fat image navigators (3D FatNavs) at
7T", Magn. Reson. Med. 75 (2016) 1030-1039 (retroMoCoBox).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from mrsim.errors import MrsimInputError

__all__ = ["CGResult", "conjugate_gradient", "known_motion_recon"]


@dataclass
class CGResult:
    """Output of :func:`conjugate_gradient`.

    Attributes
    ----------
    image : ndarray, complex128
    residuals : list of float
        ``||b - (N + lambda I) x_k|| / ||b||`` for ``k = 0 .. iterations`` (``x_0`` first).
    iterations : int
        Iterations run.
    converged : bool
        Whether the relative residual fell below ``tol``.
    """

    image: np.ndarray
    residuals: list[float] = field(default_factory=list)
    iterations: int = 0
    converged: bool = False


def conjugate_gradient(
    normal: Callable[[np.ndarray], np.ndarray],
    rhs: np.ndarray,
    x0: np.ndarray | None = None,
    *,
    iterations: int = 30,
    tol: float = 1e-6,
    lam: float = 0.0,
    progress: bool = False,
    callback: Callable[[int, np.ndarray], None] | None = None,
) -> CGResult:
    """Solve ``(normal + lam I) x = rhs`` for a Hermitian positive semi-definite ``normal``.

    Parameters
    ----------
    normal : callable
        ``x -> N x`` on arrays shaped like ``rhs``.
    rhs : ndarray
    x0 : ndarray, optional
        Start (default zero).
    iterations : int
        Most iterations.
    tol : float
        Stop when the relative residual is below ``tol``.
    lam : float
        Tikhonov weight (>= 0).
    progress : bool
        tqdm bar showing the relative residual.
    callback : callable, optional
        ``callback(k, x_k)`` after every iteration ``k = 1, 2, ...``.

    Returns
    -------
    CGResult
    """
    from tqdm.auto import tqdm

    if iterations < 0 or not tol >= 0 or not lam >= 0:
        raise MrsimInputError(
            f"need iterations >= 0, tol >= 0, lambda >= 0; got {iterations}, {tol}, {lam}"
        )
    b = np.asarray(rhs, dtype=np.complex128)

    def apply(v: np.ndarray) -> np.ndarray:
        out = np.asarray(normal(v), dtype=np.complex128)
        return out + lam * v if lam else out

    x = np.zeros_like(b) if x0 is None else np.array(x0, dtype=np.complex128)
    r = b - apply(x) if x0 is not None else b.copy()
    b_norm = float(np.linalg.norm(b)) or 1.0
    rs = float(np.vdot(r, r).real)
    history = [np.sqrt(rs) / b_norm]
    result = CGResult(x, history)
    if history[0] <= tol:
        result.converged = True
        return result
    p = r.copy()
    bar = tqdm(total=iterations, desc="CG", disable=not progress, leave=False)
    try:
        for k in range(1, iterations + 1):
            Ap = apply(p)
            pAp = float(np.vdot(p, Ap).real)
            if pAp <= 0:  # p in the null space of N: nothing left to fit
                break
            alpha = rs / pAp
            x += alpha * p
            r -= alpha * Ap
            rs_new = float(np.vdot(r, r).real)
            history.append(np.sqrt(rs_new) / b_norm)
            result.iterations = k
            bar.update()
            bar.set_postfix(residual=f"{history[-1]:.2e}")
            if callback is not None:
                callback(k, x)
            if history[-1] <= tol:
                result.converged = True
                break
            p = r + (rs_new / rs) * p
            rs = rs_new
    finally:
        bar.close()
    result.image = x
    return result


def known_motion_recon(
    operator,
    lines: np.ndarray,
    *,
    iterations: int = 30,
    tol: float = 1e-6,
    lam: float = 0.0,
    x0: np.ndarray | None = None,
    progress: bool = False,
    callback: Callable[[int, np.ndarray], None] | None = None,
) -> CGResult:
    """Image from motion-corrupted lines with known per-line poses (CG, Tikhonov).

    Parameters
    ----------
    operator : MotionOperator
        Built with the true poses (and coils) of the acquisition.
    lines : ndarray, shape ``operator.oshape``
        Acquired lines.
    iterations, tol, lam, x0, progress, callback
        As in :func:`conjugate_gradient`.

    Returns
    -------
    CGResult
        ``image`` on ``operator.ishape``; ``residuals`` the normal-equation history.
    """
    lines = np.asarray(lines)
    if lines.shape != tuple(operator.oshape):
        raise MrsimInputError(f"lines must have shape {operator.oshape}, got {lines.shape}")
    return conjugate_gradient(
        operator.normal,
        operator.adjoint(lines),
        x0,
        iterations=iterations,
        tol=tol,
        lam=lam,
        progress=progress,
        callback=callback,
    )
