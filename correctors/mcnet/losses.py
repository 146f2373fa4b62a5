"""MC-Net hybrid loss: L = alpha * L1 + beta * TV(output - reference) (seed 001, Eq. 1-2).

Reading of seed 001, Eq. 2
--------------------------
The abstract prints::

    TV = sum_{i,j} ( (I(i+1,j) - I(i,j))^2 + (I(i,j+1) - I(i,j))^2 )^1.25

with the sum's subscript ``i,j`` under the sigma and the exponent 1.25 after
the closing bracket of the summand. We read the exponent as applied to each
pixel's squared forward-difference gradient magnitude *inside* the sum, i.e.
``sum_{i,j} |grad I(i,j)|^2.5``. This is the "TV^beta" regulariser of
Mahendran & Vedaldi (CVPR 2015), ``sum ((dx)^2 + (dy)^2)^(beta/2)`` with
beta = 2.5, which is the usual reference [8] for a TV loss with such an
exponent; applying 1.25 to the whole sum would be a different (non-additive)
functional. The seed's equation says "I is a corrupted image", but its Methods
text says stage 2 minimises "the L1 and Total Variation (TV) of the residual
images (output - reference)"; we follow the Methods text: ``I = output -
reference``.

The sum runs over the pixels where both forward differences exist
(i < H-1, j < W-1), as in Mahendran & Vedaldi. Because the literal sum grows
with the image size while L1 is conventionally a mean, ``reduction="mean"``
(default) divides the sum by the number of summed pixels, so that the seed's
(alpha, beta) = (1, 1) balances the two terms independently of the matrix
size; ``reduction="sum"`` gives the literal Eq. 2 (per image, then averaged
over the batch). Which normalisation the authors' Keras code used is not
stated in the abstract.
"""

from __future__ import annotations

import torch

__all__ = ["TV_EXPONENT", "l1_loss", "tv_loss", "mcnet_loss"]

#: Exponent applied to each pixel's squared gradient magnitude (seed 001, Eq. 2).
TV_EXPONENT = 1.25

_REDUCTIONS = ("mean", "sum")


def l1_loss(output: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Mean absolute error over all elements (seed 001 stage 1 loss)."""
    if output.shape != reference.shape:
        raise ValueError(
            f"output shape {tuple(output.shape)} != reference {tuple(reference.shape)}"
        )
    return (output - reference).abs().mean()


def tv_loss(
    image: torch.Tensor, exponent: float = TV_EXPONENT, reduction: str = "mean"
) -> torch.Tensor:
    """Total variation of Eq. 2 of seed 001 for a batch of 2D images.

    Parameters
    ----------
    image : Tensor, shape (..., H, W), real
        The image ``I`` of Eq. 2 (for MC-Net, the residual output - reference).
        H and W must be >= 2.
    exponent : float, default 1.25
        Power applied to each pixel's ``u = dx^2 + dy^2`` (see module
        docstring). Must be >= 1: the gradient p u^(p-1) is then finite where
        the image is flat (u = 0), so no epsilon is needed.
    reduction : {"mean", "sum"}, default "mean"
        "sum": the literal Eq. 2 sum over i < H-1, j < W-1 of each 2D image,
        then the mean over the leading (batch, channel) dimensions.
        "mean": that sum divided by (H-1)(W-1).

    Returns
    -------
    Tensor, scalar

    References
    ----------
    Seed 001 (MC-Net), Eq. 2; A. Mahendran and A. Vedaldi, "Understanding deep
    image representations by inverting them", CVPR 2015.
    """
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    if exponent < 1:
        raise ValueError(f"exponent must be >= 1 (finite gradient at flat pixels), got {exponent}")
    if image.ndim < 2 or image.shape[-1] < 2 or image.shape[-2] < 2:
        raise ValueError(f"tv_loss needs (..., H, W) with H, W >= 2, got {tuple(image.shape)}")
    # forward differences on the common (H-1) x (W-1) grid
    dx = image[..., 1:, :-1] - image[..., :-1, :-1]  # I(i+1, j) - I(i, j)
    dy = image[..., :-1, 1:] - image[..., :-1, :-1]  # I(i, j+1) - I(i, j)
    per_pixel = (dx * dx + dy * dy) ** exponent
    per_image = per_pixel.sum(dim=(-2, -1))
    if reduction == "mean":
        per_image = per_image / (per_pixel.shape[-2] * per_pixel.shape[-1])
    return per_image.mean()


def mcnet_loss(
    output: torch.Tensor,
    reference: torch.Tensor,
    alpha: float = 1.0,
    beta: float = 0.0,
    tv_reduction: str = "mean",
) -> tuple[torch.Tensor, dict[str, float]]:
    """Hybrid loss of seed 001, Eq. 1: ``alpha * L1 + beta * TV(output - reference)``.

    Parameters
    ----------
    output, reference : Tensor, shape (N, C, H, W)
        Network output and motion-free reference.
    alpha, beta : float
        Weights; stage 1 uses (1, 0), stage 2 (1, 1) in the seed.
    tv_reduction : {"mean", "sum"}
        Passed to :func:`tv_loss`.

    Returns
    -------
    loss : Tensor, scalar
        The weighted loss (differentiable).
    parts : dict
        ``{"l1": float, "tv": float}``, the unweighted terms, for logging.
    """
    l1 = l1_loss(output, reference)
    parts = {"l1": float(l1.detach())}
    loss = alpha * l1
    # TV is computed even when beta == 0 only for logging; skip the graph then.
    if beta != 0.0:
        tv = tv_loss(output - reference, reduction=tv_reduction)
        loss = loss + beta * tv
        parts["tv"] = float(tv.detach())
    else:
        with torch.no_grad():
            parts["tv"] = float(tv_loss(output - reference, reduction=tv_reduction))
    return loss, parts
