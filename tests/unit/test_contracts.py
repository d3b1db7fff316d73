"""The contracts that cross modules or processes, each with one owner: the allowed values
(core/choices.py), the training events (core/training/events.py), the run folder
(core/training/run_folder.py) and the user's settings."""

from __future__ import annotations

import json

import pytest

from fer_desktop.core import choices
from fer_desktop.core.settings import Settings
from fer_desktop.core.support.errors import UserError
from fer_desktop.core.training import events
from fer_desktop.core.training.run_folder import HISTORY_FIELDS, RunFolder, new_run_dir


def test_the_runner_handles_every_event_kind_and_no_other():
    from fer_desktop.workers.training_runner import TrainingRunner

    assert set(TrainingRunner.HANDLERS) == set(events.KINDS)


# One line of each kind, as a trainer process prints them; the last line decides how it ends.
_LINES = [
    {"event": "start", "run_dir": "runs/r1", "epochs": 2},
    events.progress_event(1, 2, 10, 50.0, 3.0),
    {"event": "epoch", "epoch": 1, "val_acc": 0.5},
    events.log_event("info", "hello from the trainer"),
    events.best_event(1, "runs/r1/best.pt"),
]
_ENDS = {
    "finished": {"event": "finished", "run_dir": "runs/r1b", "best_val_acc": 0.5},
    "stopped": {"event": "stopped", "run_dir": "", "epoch": 1},
    "error": events.error_event("Out of memory in epoch 1.", "Use a smaller batch."),
}


@pytest.mark.parametrize("end", list(_ENDS))
def test_each_event_kind_reaches_the_signal_that_shows_it(qtbot, end):
    """Issue 33: the test above passes with a handler that does nothing. Here a real process
    prints one line of each kind and each must arrive where the Training tab listens."""
    import sys

    from fer_desktop.workers.training_runner import TrainingRunner

    script = "import sys\n" + "".join(
        f"print({events.to_line(ev)!r}, flush=True)\n" for ev in [*_LINES, _ENDS[end]]
    )
    runner = TrainingRunner(command=lambda args: [sys.executable, "-c", script])
    got: dict[str, list] = {}
    for name in ("started", "progress", "epoch", "log", "best", "finished", "failed"):
        getattr(runner, name).connect(lambda v, name=name: got.setdefault(name, []).append(v))
    with qtbot.waitSignal(runner.exited, timeout=20_000):
        runner.start([])
    assert [e["run_dir"] for e in got["started"]] == ["runs/r1"]
    assert [e["epoch"] for e in got["progress"]] == [1]
    assert [e["val_acc"] for e in got["epoch"]] == [0.5] and runner.epochs_seen == 1
    assert [e["message"] for e in got["log"]] == ["hello from the trainer"]
    assert [e["path"] for e in got["best"]] == ["runs/r1/best.pt"]
    if end == "error":
        assert "finished" not in got
        assert got["failed"] == ["Out of memory in epoch 1.\nUse a smaller batch."]
        assert runner.last_error == {"message": "Out of memory in epoch 1.",
                                     "hint": "Use a smaller batch."}  # fmt: skip
    else:
        assert [e["event"] for e in got["finished"]] == [end] and "failed" not in got
        assert runner.run_dir == ("runs/r1b" if end == "finished" else "runs/r1")


def test_event_lines_round_trip_and_strays_are_not_events():
    ev = events.progress_event(2, 10, 100, 123.456, 9.87)
    assert events.parse_line(events.to_line(ev)) == ev | {
        "images_per_second": 123.5,
        "eta_epoch_s": 9.9,
    }
    assert events.parse_line("Downloading weights...") is None  # a library's print
    assert events.parse_line('{"event": "surprise"}') is None  # not a kind the app knows
    assert events.parse_line("[1, 2]") is None


@pytest.mark.parametrize(
    ("field", "bad"),
    [("precision", "fp8"), ("device", "tpu"), ("device", "cpu:2"), ("backend", "tensorrt"),
     ("detector", "haar"), ("loop_video", "sometimes")],
)  # fmt: skip
def test_settings_refuse_a_value_outside_the_choices(field, bad):
    s = Settings()
    setattr(s, field, bad)
    with pytest.raises(UserError) as info:
        s.validate()
    assert field in info.value.message


def test_settings_accept_every_choice():
    for field, allowed in (("precision", choices.PRECISIONS), ("backend", choices.BACKENDS),
                           ("detector", choices.DETECTORS), ("loop_video", choices.LOOP_MODES)):  # fmt: skip
        for value in allowed:
            s = Settings()
            setattr(s, field, value)
            s.validate()
    for device in ("auto", "cpu", "cuda", "cuda:1", "mps"):
        Settings(device=device).validate()


def test_fer_train_offers_exactly_the_shared_choices():
    pytest.importorskip("torch")  # the parser lists the architectures from the zoo
    from fer_training.cli import build_parser

    actions = {a.dest: a for a in build_parser()._actions}
    assert tuple(actions["optimizer"].choices) == choices.OPTIMIZERS
    assert tuple(actions["schedule"].choices) == choices.SCHEDULES
    assert tuple(actions["balance"].choices) == choices.BALANCES
    assert tuple(actions["precision"].choices) == choices.TORCH_PRECISIONS  # no int8 training


def test_run_folder_names_its_files_and_reads_what_the_trainer_writes(tmp_path):
    run = RunFolder(tmp_path / "run")
    with pytest.raises(FileNotFoundError):
        run.read()  # not a run yet: no history.json
    run.write_request({"epochs": 3, "arch": "tiny_cnn"})
    assert json.loads(run.request.read_text())["epochs"] == 3
    run.write_config({"config": {"epochs": 3}, "classes": ["a", "b"]})
    rows = [{f: i for f in HISTORY_FIELDS} | {"confusion_matrix": [[1]]} for i in (1, 2)]
    run.write_history(rows)
    got = run.read()
    assert got["config"] == {"epochs": 3} and got["classes"] == ["a", "b"]
    assert [r["epoch"] for r in got["history"]] == [1, 2] and got["best"] is None
    assert run.history_csv.read_text().splitlines()[0] == ",".join(HISTORY_FIELDS)
    assert run.saved_config() == {"epochs": 3}
    run.best.write_bytes(b"x")
    assert run.read()["best"] == str(run.best) == str(run.best_if_saved())


def test_new_run_folders_never_reuse_a_name(tmp_path):
    first = new_run_dir("fer_net", tmp_path)
    first.mkdir()
    second = new_run_dir("fer_net", tmp_path)
    assert first != second and first.name.endswith("-fer_net")
