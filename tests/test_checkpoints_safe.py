"""Checkpoints never run code from the file; shipped weights are hash-verified."""

import json
import pickle

import pytest
import torch

from correctors.common.checkpoints import (
    load_checkpoint,
    load_verified,
    save_checkpoint,
    write_model_card,
)
from mrsim.errors import MrsimInputError


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_plain_checkpoint_round_trip(tmp_path):
    ck = {"model": {"w": torch.arange(3.0)}, "config": {"n": 2, "name": "tiny"}, "step": 5}
    save_checkpoint(ck, tmp_path / "c.pt")
    back = load_checkpoint(tmp_path / "c.pt")
    assert back["step"] == 5 and back["config"] == {"n": 2, "name": "tiny"}
    assert torch.equal(back["model"]["w"], torch.arange(3.0))


def test_pickle_payload_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"x": _Evil(marker)}, path, pickle_protocol=pickle.HIGHEST_PROTOCOL)
    assert not marker.exists()
    with pytest.raises(MrsimInputError, match="refused"):
        load_checkpoint(path)
    assert not marker.exists()


def test_not_a_checkpoint(tmp_path):
    p = tmp_path / "x.pt"
    p.write_text("hello")
    with pytest.raises(MrsimInputError, match="x.pt"):
        load_checkpoint(p)


def test_model_card_hash_verified(tmp_path):
    save_checkpoint({"model": {"w": torch.ones(2)}}, tmp_path / "model.pt")
    write_model_card(tmp_path, {"command": "train", "metrics": {}})
    ck, card = load_verified(tmp_path)
    assert card["sha256"] and torch.equal(ck["model"]["w"], torch.ones(2))
    save_checkpoint({"model": {"w": torch.zeros(2)}}, tmp_path / "model.pt")  # swapped weights
    with pytest.raises(MrsimInputError, match="sha256"):
        load_verified(tmp_path)
    card_path = tmp_path / "model_card.json"
    card_path.unlink()
    with pytest.raises(MrsimInputError, match="model card missing"):
        load_verified(tmp_path)
    card_path.write_text(json.dumps({"sha256": "0" * 64}))
    with pytest.raises(MrsimInputError, match="sha256"):
        load_verified(tmp_path)
