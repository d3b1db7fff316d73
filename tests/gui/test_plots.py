"""The Training tab's pyqtgraph plots: the tick labels a user reads are distinct and correct."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage, QPainter

from fer_desktop.ui.training.confusion import ConfusionMatrixView
from fer_desktop.ui.training.plots import LinePlot


def drawn_tick_labels(plot: LinePlot, axis: str) -> list[str]:
    """The tick texts the axis paints at its current size (pyqtgraph's own draw specs)."""
    item = plot.getPlotItem().getAxis(axis)
    img = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(img)
    try:
        specs = item.generateDrawSpecs(painter)
    finally:
        painter.end()
    return [text for _rect, _flags, text in specs[2]]


def shown(qtbot, widget, size=(500, 300)) -> None:
    qtbot.addWidget(widget)
    widget.resize(*size)
    widget.show()
    qtbot.waitExposed(widget)


def test_loss_axis_labels_are_distinct_and_match_the_values(qtbot):
    # The bug: losses between 1.905 and 1.915 showed "1.91" on all five ticks.
    plot = LinePlot("Loss")
    shown(qtbot, plot)
    plot.set_x_extent(1, 5)
    losses = [1.9148, 1.9121, 1.9093, 1.9075, 1.9052]
    for e, v in enumerate(losses, 1):
        plot.add_point("val", e, v)
    qtbot.wait(50)
    labels = drawn_tick_labels(plot, "left")
    assert len(labels) >= 3, labels
    assert len(set(labels)) == len(labels), f"repeated tick labels: {labels}"
    values = [float(t) for t in labels]
    lo, hi = plot.getPlotItem().viewRange()[1]
    assert all(lo <= v <= hi for v in values), (values, lo, hi)  # labels name visible values
    assert min(values) <= 1.906 and max(values) >= 1.913  # the data's span is labelled
    steps = np.diff(sorted(values))
    assert np.allclose(steps, steps[0])  # evenly spaced, as ticks are


def test_epoch_axis_has_whole_epochs_and_accuracy_axis_percentages(qtbot):
    loss = LinePlot("Loss")
    acc = LinePlot("Accuracy", y_range=(0.0, 1.0), y_percent=True)
    for p in (loss, acc):
        shown(qtbot, p)
        p.set_x_extent(1, 2)  # a 2-epoch run: pyqtgraph alone would also label 1.5
        p.add_point("train", 1, 0.4)
        p.add_point("train", 2, 0.5)
    qtbot.wait(50)
    epochs = drawn_tick_labels(loss, "bottom")
    assert epochs == ["1", "2"], epochs
    percents = drawn_tick_labels(acc, "left")
    assert "0%" in percents and "100%" in percents and all(t.endswith("%") for t in percents)


def test_confusion_view_labels_classes_and_colours_by_row_share(qtbot):
    view = ConfusionMatrixView()
    shown(qtbot, view, (420, 380))
    classes = ["angry", "happy", "sad"]
    view.set_matrix([[8, 2, 0], [0, 10, 0], [5, 0, 5]], classes)
    qtbot.wait(50)
    axis = view.getPlotItem().getAxis("left")
    assert [t for _, t in axis._tickLevels[0]] == classes
    img = view.grab().toImage()
    assert not img.isNull()
    texts = sorted(t.toPlainText() for t in view._texts)
    assert texts == sorted(["8", "2", "0", "0", "10", "0", "5", "0", "5"])


def test_a_reopened_run_is_drawn_after_clear(qtbot):
    # The Training tab clears the plots before showing another run; the series must survive.
    plot = LinePlot("Loss")
    shown(qtbot, plot)
    plot.add_series("train", "#1f77b4")
    plot.add_series("val", "#ff7f0e")
    plot.add_point("train", 1, 9.0)
    plot.clear()
    assert plot.points("train") == []
    plot.set_points("train", [(1, 1.5), (2, 1.3), (3, 1.2)])
    plot.set_points("val", [(1, 1.6), (2, 1.4), (3, 1.35)])
    plot.set_x_extent(1, 60)
    qtbot.wait(50)
    drawn = plot.getPlotItem().listDataItems()
    assert len(drawn) == 2 and all(len(item.getData()[0]) == 3 for item in drawn)
    lo, hi = plot.getPlotItem().viewRange()[1]
    assert lo <= 1.2 and hi >= 1.6  # the y axis follows the new run's values
    epochs = drawn_tick_labels(plot, "bottom")
    assert "10" in epochs and all(t.isdigit() for t in epochs)  # the planned 60 epochs are shown
