"""Spatial phase unwrapping: least-squares (Laplacian) and graph-cut (PUMA).

- :func:`unwrap_laplacian`: the unwrapped phase whose discrete Laplacian equals
  the divergence of the *wrapped* neighbour differences, solved with DCT
  (Neumann boundaries; Ghiglia & Romero 1994, the discrete form of the
  Laplacian unwrapping of Schofield & Zhu 2003). With a mask, only differences
  between two masked voxels count (weighted least squares, preconditioned CG).
  Exact (up to a constant) when every true neighbour difference is below pi.
- :func:`unwrap_graphcut`: integer 2 pi offsets minimising
  ``sum_edges w_e |d_e|^p`` by a sequence of binary max-flow/min-cut moves
  (PUMA, Bioucas-Dias & Valadao 2007), using PyMaxflow; the graph-cut family of
  unwrappers used in seed 002 (its ref. 39). Its output differs from the input
  by exact multiples of 2 pi.

References
----------
Ghiglia DC, Romero LA. Robust two-dimensional weighted and unweighted phase
unwrapping that uses fast transforms and iterative methods. JOSA A 1994;11:107.
Schofield MA, Zhu Y. Fast phase unwrapping algorithm for interferometric
applications. Opt Lett 2003;28:1194.
Bioucas-Dias JM, Valadao G. Phase unwrapping via graph cuts. IEEE TIP 2007;16:698.
Seed 002, Sec. 3.2 (graph-cut based phase unwrapping).
"""

from __future__ import annotations

import numpy as np
import scipy.fft
from scipy.sparse.linalg import LinearOperator, cg

from mrsim.errors import MrsimInputError
from mrsim.qsm.fit import wrap_phase

__all__ = ["unwrap_laplacian", "unwrap_graphcut"]


def _grad(x: np.ndarray, axis: int) -> np.ndarray:
    """Forward difference with a zero last plane (Neumann)."""
    g = np.zeros_like(x)
    sl_a = [slice(None)] * x.ndim
    sl_b = [slice(None)] * x.ndim
    sl_a[axis] = slice(0, -1)
    sl_b[axis] = slice(1, None)
    g[tuple(sl_a)] = x[tuple(sl_b)] - x[tuple(sl_a)]
    return g


def _div(g: np.ndarray, axis: int) -> np.ndarray:
    """Adjoint of -_grad: d[i] = g[i] - g[i-1] with g[-1] = 0 and g[N-1] ignored."""
    g = g.copy()
    sl_last = [slice(None)] * g.ndim
    sl_last[axis] = -1
    g[tuple(sl_last)] = 0.0
    d = g.copy()
    sl_a = [slice(None)] * g.ndim
    sl_b = [slice(None)] * g.ndim
    sl_a[axis] = slice(1, None)
    sl_b[axis] = slice(0, -1)
    d[tuple(sl_a)] -= g[tuple(sl_b)]
    return d


def _poisson_dct(rho: np.ndarray) -> np.ndarray:
    """Solve the Neumann discrete Poisson equation ``L phi = rho`` (mean of phi = 0)."""
    lam = np.zeros(rho.shape)
    for ax, n in enumerate(rho.shape):
        shape = [1] * rho.ndim
        shape[ax] = n
        lam = lam + (2 * np.cos(np.pi * np.arange(n) / n) - 2).reshape(shape)
    r = scipy.fft.dctn(rho, type=2, norm="ortho")
    lam.flat[0] = 1.0
    r /= lam
    r.flat[0] = 0.0
    return scipy.fft.idctn(r, type=2, norm="ortho")


def unwrap_laplacian(
    phase: np.ndarray,
    mask: np.ndarray | None = None,
    *,
    maxiter: int = 200,
    rtol: float = 1e-8,
) -> np.ndarray:
    """Least-squares (Laplacian) unwrapping of a 3D wrapped phase.

    Parameters
    ----------
    phase : (X, Y, Z) real array
        Wrapped phase (rad).
    mask : bool array, optional
        Region to unwrap; differences leaving it are ignored and the output is 0
        outside it. Without a mask the whole grid is used (direct DCT solve).
    maxiter, rtol : int, float
        Conjugate-gradient controls for the masked (weighted) problem.

    Returns
    -------
    ndarray
        Unwrapped phase, zero mean over the region. Not congruent to the input
        in general (it is a smooth least-squares estimate); exact up to a
        constant when all true neighbour differences are below pi.
    """
    psi = np.asarray(phase, dtype=float)
    if psi.ndim != 3:
        raise ValueError(f"phase must be 3D, got shape {psi.shape}")
    if mask is None:
        rho = sum(_div(wrap_phase(_grad(psi, a)), a) for a in range(3))
        return _poisson_dct(rho)
    m = np.asarray(mask, bool)
    if m.shape != psi.shape:
        raise ValueError(f"mask shape {m.shape} != phase shape {psi.shape}")
    mf = m.astype(float)
    wts = [mf * np.roll(mf, -1, axis=a) for a in range(3)]  # edge weight i -> i+1
    for a, w in enumerate(wts):  # no edge out of the last plane
        sl = [slice(None)] * 3
        sl[a] = -1
        w[tuple(sl)] = 0.0
    rho = sum(_div(w * wrap_phase(_grad(psi, a)), a) for a, w in enumerate(wts))
    outside = 1.0 - mf
    shape = psi.shape

    def matvec(v: np.ndarray) -> np.ndarray:
        x = v.reshape(shape)
        y = sum(_div(w * _grad(x, a), a) for a, w in enumerate(wts))
        return (-y + outside * x).ravel()

    A = LinearOperator((psi.size, psi.size), matvec=matvec, dtype=float)
    M = LinearOperator(
        (psi.size, psi.size), matvec=lambda v: -_poisson_dct(v.reshape(shape)).ravel(), dtype=float
    )
    x0 = _poisson_dct(rho)
    sol, _ = cg(A, -rho.ravel(), x0=x0.ravel(), M=M, maxiter=maxiter, rtol=rtol)
    out = sol.reshape(shape) * mf
    if m.any():
        out[m] -= out[m].mean()
    return out


def unwrap_graphcut(
    phase: np.ndarray,
    mask: np.ndarray | None = None,
    *,
    weights: np.ndarray | None = None,
    p: float = 2.0,
    max_iter: int = 100,
) -> np.ndarray:
    """Graph-cut (PUMA) unwrapping: adds integer multiples of 2 pi to ``phase``.

    Parameters
    ----------
    phase : (X, Y, Z) real array
        Wrapped phase (rad).
    mask : bool array, optional
        Only edges between two masked voxels carry energy; output 0 outside.
    weights : real array, optional
        Voxel quality (e.g. magnitude); an edge weighs the smaller of its two
        voxels' values. Uniform by default.
    p : float >= 1
        Exponent of the edge potential ``|d|^p`` (convex for p >= 1, which keeps
        every binary move submodular and the result a global optimum).
    max_iter : int
        Maximum number of binary moves (each can add 2 pi to a set of voxels).

    Returns
    -------
    ndarray
        ``phase + 2 pi k`` with integer ``k``.

    Notes
    -----
    Two shortcuts leave the result unchanged (tested against the former code): the
    graph is built on the mask's bounding box only (edges leaving the mask weigh 0), and
    the moves stop as soon as no edge of positive weight has a phase jump above pi, since
    then no integer offsets can lower the energy and a max-flow would only confirm that.
    """
    import maxflow

    psi = np.asarray(phase, dtype=float)
    if psi.ndim != 3:
        raise ValueError(f"phase must be 3D, got shape {psi.shape}")
    if p < 1:
        raise ValueError(f"p must be >= 1 (convex potential), got {p}")
    m = np.ones(psi.shape, bool) if mask is None else np.asarray(mask, bool)
    if m.shape != psi.shape:
        raise ValueError(f"mask shape {m.shape} != phase shape {psi.shape}")
    q = np.ones(psi.shape) if weights is None else np.asarray(weights, dtype=float)
    if q.shape != psi.shape:
        q = np.broadcast_to(q, psi.shape) if q.ndim == 0 else q
    if q.shape != psi.shape or not np.isfinite(q).all() or (q < 0).any():
        # the bounding-box and early-stop shortcuts (Notes) rest on weights >= 0
        raise MrsimInputError(
            f"weights must be finite, >= 0 and of the phase's shape {psi.shape} (or a scalar), "
            f"got shape {q.shape}"
        )
    out = np.zeros(psi.shape)
    if not m.any():
        return out
    # Every edge leaving the mask has zero weight, so voxels outside the mask's bounding box
    # are isolated graph nodes that never carry flow: solving on the box gives the same cuts.
    box = _bounding_box(m)
    m, q, psi = m[box], q[box], psi[box]
    q = np.where(m, q, 0.0)
    psi = np.where(m, psi, 0.0)

    # edge weights w_a[i] for edge i -> i + e_a (last plane has no edge)
    edge_w = []
    for a in range(3):
        w = np.minimum(q, np.roll(q, -1, axis=a))
        sl = [slice(None)] * 3
        sl[a] = -1
        w[tuple(sl)] = 0.0
        edge_w.append(w)

    def V(d: np.ndarray) -> np.ndarray:
        return np.abs(d) ** p

    def energy(x: np.ndarray) -> float:
        return float(sum((w * V(np.roll(x, -1, axis=a) - x)).sum() for a, w in enumerate(edge_w)))

    two_pi = 2 * np.pi
    e_old = energy(psi)
    for _ in range(max_iter):
        if _no_jump_above_pi(psi, edge_w):
            # |d + 2 pi n| >= |d| for every integer n when |d| <= pi, so no 2 pi offsets can
            # lower any edge's term: psi is a global minimum and the move below would be
            # rejected (this skips that max-flow; same result).
            break
        unary = np.zeros(psi.shape)  # cost of x = 1 minus cost of x = 0
        g = maxflow.Graph[float]()
        nodes = g.add_grid_nodes(psi.shape)
        for a, w in enumerate(edge_w):
            d = np.roll(psi, -1, axis=a) - psi
            A = w * V(d)
            B = w * V(d + two_pi)
            C = w * V(d - two_pi)
            unary += C - A  # x_i term
            unary += np.roll(A - C, 1, axis=a)  # x_j term (D - C with D = A), j = i + e_a
            cap = np.maximum(B + C - 2 * A, 0.0)
            struct = np.zeros((3, 3, 3))
            idx = [1, 1, 1]
            idx[a] = 2
            struct[tuple(idx)] = 1
            g.add_grid_edges(nodes, weights=cap, structure=struct, symmetric=False)
        g.add_grid_tedges(nodes, np.maximum(unary, 0.0), np.maximum(-unary, 0.0))
        g.maxflow()
        x = g.get_grid_segments(nodes)
        if not x.any():
            break
        cand = psi + two_pi * x
        e_new = energy(cand)
        if e_new >= e_old - 1e-9 * max(e_old, 1.0):
            break
        psi, e_old = cand, e_new
    out[box] = np.where(m, psi, 0.0)
    return out


def _bounding_box(mask: np.ndarray) -> tuple[slice, ...]:
    """Smallest box of slices holding every True voxel of a non-empty 3D mask."""
    box = []
    for a in range(mask.ndim):
        hit = np.flatnonzero(mask.any(axis=tuple(b for b in range(mask.ndim) if b != a)))
        box.append(slice(int(hit[0]), int(hit[-1]) + 1))
    return tuple(box)


def _no_jump_above_pi(psi: np.ndarray, edge_w: list[np.ndarray]) -> bool:
    """True when every edge of positive weight has ``|psi_j - psi_i| <= pi``."""
    for a, w in enumerate(edge_w):
        d = np.roll(psi, -1, axis=a) - psi
        if np.any(np.abs(d[w > 0]) > np.pi):
            return False
    return True
