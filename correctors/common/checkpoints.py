"""Safe checkpoints and shipped weights with model cards.

Checkpoints hold only tensors and plain containers (dict, list, str, int, float, bool, None),
so they load with ``torch.load(weights_only=True)``, which never runs code from the file. A file
that needs arbitrary unpickling is refused. Shipped weights live in
``correctors/weights/NAME/`` as ``model.pt`` next to ``model_card.json``; the card records the
weights' sha256, which is verified before the weights are loaded.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import torch

from mrsim.errors import MrsimInputError
from mrsim.io.atomic import atomic_path
from mrsim.io.hdf5 import file_sha256  # the one file hash (also re-exported here)

WEIGHTS_ROOT = Path(__file__).resolve().parent.parent / "weights"
CARD_NAME = "model_card.json"
WEIGHTS_NAME = "model.pt"


def save_checkpoint(obj: dict[str, Any], path: str | Path) -> Path:
    """Write ``obj`` (tensors and plain containers only) atomically with ``torch.save``."""
    p = Path(path)
    with atomic_path(p) as tmp:
        torch.save(obj, tmp)
    return p


#: Oldest torch whose ``weights_only`` unpickler has no published code-execution bypass:
#: CVE-2025-32434 (fixed in 2.6.0) and CVE-2026-24747 (memory corruption, fixed in 2.10.0).
MIN_SAFE_TORCH = (2, 10)


def _require_safe_torch() -> None:
    if torch.__version__ < MIN_SAFE_TORCH:
        raise MrsimInputError(
            f"torch {torch.__version__} is older than "
            f"{'.'.join(map(str, MIN_SAFE_TORCH))}: its torch.load(weights_only=True) can be "
            "made to run code from a file (CVE-2025-32434, CVE-2026-24747); upgrade torch "
            "before loading model files"
        )


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint with ``weights_only=True``; refuse files that need arbitrary unpickling.

    Raises
    ------
    MrsimInputError
        The file is missing, is not a torch checkpoint, or would execute code when unpickled.
    """
    p = Path(path)
    if not p.is_file():
        raise MrsimInputError(f"{p}: no such checkpoint file")
    _require_safe_torch()
    try:
        obj = torch.load(p, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        raise MrsimInputError(
            f"{p}: refused: this checkpoint needs arbitrary Python objects to load, which could "
            "run code from the file; mrsim checkpoints hold only tensors and plain dicts "
            f"({str(exc).splitlines()[0]})"
        ) from None
    except (RuntimeError, EOFError, OSError, KeyError, ValueError) as exc:
        raise MrsimInputError(f"{p}: not a readable torch checkpoint ({exc})") from None
    if not isinstance(obj, dict):
        raise MrsimInputError(f"{p}: expected a dict checkpoint, found {type(obj).__name__}")
    return obj


def require_same_config(path: str | Path, stored: Any, current: dict[str, Any]) -> None:
    """Refuse to resume from checkpoint ``path`` written with another train config.

    Raises :class:`MrsimInputError` (the user's options or ``--out`` folder) naming the file
    and the stored config, so a resumed run never mixes two recipes.
    """
    if stored != current:
        raise MrsimInputError(
            f"{path}: checkpoint was written with a different train config ({stored}); "
            "pass the same options, or --no-resume (resume=False) to start over"
        )


def write_model_card(folder: str | Path, card: dict[str, Any]) -> Path:
    """Write ``folder/model_card.json`` for ``folder/model.pt``, adding its sha256 and size.

    ``card`` should hold at least: ``command`` (the exact training command), ``recipe``,
    ``seeds``, ``data`` (sizes), ``metrics`` and ``mrsim_version``.
    """
    folder = Path(folder)
    weights = folder / WEIGHTS_NAME
    full = dict(card)
    full["weights_file"] = WEIGHTS_NAME
    full["sha256"] = file_sha256(weights)
    full["size_bytes"] = weights.stat().st_size
    with atomic_path(folder / CARD_NAME) as tmp:
        tmp.write_text(json.dumps(full, indent=1, sort_keys=True) + "\n")
    return folder / CARD_NAME


def shipped_weights_dir(name: str) -> Path:
    """The folder of the weights shipped for corrector ``name`` (e.g. ``"mcnet"``)."""
    return WEIGHTS_ROOT / name


def load_verified(
    folder: str | Path, map_location: str | torch.device = "cpu"
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Load ``folder/model.pt`` after checking its sha256 against ``folder/model_card.json``.

    Returns
    -------
    checkpoint, card : dict, dict

    Raises
    ------
    MrsimInputError
        Missing card or weights, or a hash mismatch (the weights are not the ones the card
        describes: refused, never loaded).
    """
    folder = Path(folder)
    card_path = folder / CARD_NAME
    if not card_path.is_file():
        raise MrsimInputError(f"{card_path}: model card missing (needed to verify the weights)")
    try:
        card = json.loads(card_path.read_text())
    except json.JSONDecodeError as exc:
        raise MrsimInputError(f"{card_path}: not valid JSON ({exc})") from None
    weights = folder / card.get("weights_file", WEIGHTS_NAME)
    if not weights.is_file():
        raise MrsimInputError(f"{weights}: weights named by {card_path} are missing")
    digest = file_sha256(weights)
    if digest != card.get("sha256"):
        raise MrsimInputError(
            f"{weights}: sha256 {digest} does not match the model card's {card.get('sha256')}; "
            "refusing to load weights that are not the ones the card describes"
        )
    return load_checkpoint(weights, map_location=map_location), card
