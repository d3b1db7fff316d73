"""FER+ (issue 34): the ten annotators' votes as the FER+ tools write them, read as majority
labels and vote distributions; `evaluate` scores the majority and reports the fit to the votes;
the real training loop learns from the votes."""

from __future__ import annotations

import zipfile

import cv2
import numpy as np
import pytest

from fer_desktop.core.emotions import CLASSES
from fer_desktop.core.training import ferplus
from fer_desktop.core.training.datasets import load_dataset

from shared_paths import CK_ZIP, FERPLUS_ZIP

# label.csv columns: neutral, happiness, surprise, sadness, anger, disgust, fear, contempt, unknown, NF
ROWS = {
    "fer0000001.png": [0, 8, 1, 0, 0, 0, 0, 1, 0, 0],  # happy
    "fer0000002.png": [4, 0, 0, 4, 0, 0, 0, 0, 2, 0],  # tie neutral/sad: left out
    "fer0000003.png": [1, 0, 0, 0, 0, 0, 0, 6, 3, 0],  # contempt on top: left out
    "fer0000004.png": [0, 0, 0, 0, 0, 0, 0, 0, 0, 10],  # not a face: left out
    "fer0000005.png": [2, 0, 0, 0, 5, 3, 0, 0, 0, 0],  # angry, disgust second
}


def _zip(path, split="FER2013Train") -> None:
    with zipfile.ZipFile(path, "w") as z:
        lines = []
        for i, (name, votes) in enumerate(ROWS.items()):
            img = np.full((48, 48), 40 * i, np.uint8)
            z.writestr(f"{split}/{name}", cv2.imencode(".png", img)[1].tobytes())
            lines.append(f'{name},"(0, 0, 48, 48)",' + ",".join(map(str, votes)))
        z.writestr(f"{split}/label.csv", "\n".join(lines) + "\n")


def test_majority_and_distribution_follow_the_papers_protocol():
    votes = np.array(list(ROWS.values()), float)
    assert ferplus.majority(votes).tolist() == [
        CLASSES.index("happy"), -1, -1, -1, CLASSES.index("angry"),
    ]  # fmt: skip
    dist = ferplus.distribution(votes)
    assert np.allclose(dist[0][CLASSES.index("happy")], 8 / 9)  # contempt's vote dropped
    assert np.allclose(dist[4][[CLASSES.index(c) for c in ("neutral", "angry", "disgust")]],
                       [0.2, 0.5, 0.3])  # fmt: skip
    assert np.allclose(dist[3], 0)  # no vote among our classes


def test_the_ferplus_layout_loads_as_a_dataset(tmp_path):
    _zip(tmp_path / "fp.zip")
    ds = load_dataset(tmp_path / "fp.zip")
    s = ds.splits["train"]
    assert [n.split("/")[-1] for n in s.names] == ["fer0000001.png", "fer0000005.png"]
    assert [CLASSES[i] for i in s.labels] == ["happy", "angry"]
    assert s.votes.shape == (2, 7) and np.allclose(s.votes.sum(1), 1)


@pytest.mark.skipif(not FERPLUS_ZIP.is_file(), reason=f"FER+ zip not found at {FERPLUS_ZIP}")
def test_the_real_ferplus_zip_has_the_documented_majority_counts():
    ds = load_dataset(FERPLUS_ZIP)
    # ../shared/datasets/README.md: valid neutral 1,231, happy 869, surprise 417, sad 388, angry
    # 305, fear 67, disgust 31
    counts = dict(zip(CLASSES, ds.splits["val"].class_counts()))
    assert counts == {"angry": 305, "disgust": 31, "fear": 67, "happy": 869, "neutral": 1231,
                      "sad": 388, "surprise": 417}  # fmt: skip
    assert len(ds.splits["train"]) == 26295


@pytest.mark.skipif(not FERPLUS_ZIP.is_file(), reason=f"FER+ zip not found at {FERPLUS_ZIP}")
def test_evaluate_scores_the_majority_and_the_fit_to_the_votes(tmp_path):
    """The shipped model on a FER+ slice: a vote-trained model puts most of its probability
    where the ten annotators put theirs."""
    from fer_desktop.core.classify.classifier import EmotionClassifier
    from fer_desktop.core.evaluation.classifier_eval import evaluate_classifier, vote_scores

    r = evaluate_classifier(EmotionClassifier(), str(FERPLUS_ZIP), limit=400)
    assert r["split"] == "val" and r["n"] == 400
    assert r["label_source"].startswith("FER+ majority")
    assert 0 < r["votes_kl"] < r["votes_cross_entropy"]
    assert r["top_class_voted"] > 0.9 and r["accuracy"] > 0.75
    votes = np.eye(7)[[0, 1]]
    perfect = vote_scores(votes * 0.999 + 0.001 / 7, votes)
    assert perfect["votes_kl"] < 0.01 and perfect["prob_on_majority"] > 0.99


@pytest.mark.skipif(
    not (FERPLUS_ZIP.is_file() and CK_ZIP.is_file()), reason="FER+ or CK+ zip missing"
)
def test_the_real_training_loop_learns_from_the_votes(tmp_path):
    from fer_desktop.core.training.config import TrainConfig
    from fer_training.fit import run

    events: list[dict] = []
    cfg = TrainConfig(data=[str(FERPLUS_ZIP), str(CK_ZIP)], arch="tiny_cnn", epochs=1,
                      limit=300, label_mode="votes", out=str(tmp_path / "run"), prefetch=0)  # fmt: skip
    summary = run(cfg, events.append)
    assert summary["event"] == "finished" and summary["epochs_done"] == 1
    (epoch,) = [e for e in events if e["event"] == "epoch"]
    assert set(epoch["val_sets"]) == {"ferplus", "ckplus48"}
    assert np.isfinite(epoch["train_loss"]) and epoch["train_loss"] > 0
