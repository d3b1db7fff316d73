"""The session viewer: a finished recording's timelines, per-face summary bars and video frames.

A session folder (faces.csv, session.json, maybe annotated.mp4): a row per face (its timeline and
share of time per label); a click on a timeline, or the player, shows annotated.mp4's frame there.
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QImage, QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from fer_desktop.core.sessions.layout import sessions_dir
from fer_desktop.core.sessions.reader import LABELS, SessionData, load_session
from fer_desktop.core.sessions.report import setting_changes
from fer_desktop.core.support.errors import UserError
from fer_desktop.core.support.fileio import unique_path
from fer_desktop.ui.errors import show_error
from fer_desktop.ui.live.timeline import TrackPlot, label_codes, legend_html, rgb
from fer_desktop.ui.sessions.player import attach_player
from fer_desktop.ui.sessions.session_video import SessionVideo
from fer_desktop.ui.sessions.study_panel import StudyPanel
from fer_desktop.ui.video_view import bgr_to_qimage
from fer_desktop.ui.widgets import fit_to_screen, keep_on_screen
from fer_desktop.workers.tasks import LatestTask

ROW_HEIGHT = 170
MAX_ROWS = 12  # the faces seen longest; a crowd's fleeting faces stay in the CSV


class FramePreview(QLabel):
    """Shows one BGR frame scaled to fit, keeping its aspect ratio."""

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setWordWrap(True)
        self.setMinimumSize(320, 180)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setStyleSheet("background: #202020; color: #dddddd;")
        self._image: QImage | None = None

    def set_frame(self, bgr: np.ndarray) -> None:
        self._image = bgr_to_qimage(np.ascontiguousarray(bgr)).copy()  # owns its pixels
        self._rescale()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._rescale()

    def _rescale(self) -> None:
        if self._image is not None:
            self.setPixmap(
                QPixmap.fromImage(self._image).scaled(
                    self.size(),
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
            )


class SessionView(QWidget):
    """One session folder: header, a row of charts per face, and the frame at the cursor."""

    seeked = Signal(float)  # seconds; after the cursor moved (and the frame, if any, is shown)

    def __init__(self, folder: str | Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data: SessionData = load_session(folder)
        self.cursor_s = 0.0
        self.shown_frame: int | None = None  # annotated.mp4 frame on screen
        self._frames = LatestTask("Showing the video frame", self)
        self._frames.finished.connect(self._on_frame)
        self.setWindowTitle(f"Session {self.data.folder.name} — fer-desktop")
        self._build_ui()
        self.player = attach_player(self)  # Play/Pause, a scrub bar, Space and arrows (issue 30)
        self.video = SessionVideo(self.data)  # annotated.mp4, or the analysed source + overlay
        if self.video.cap is None:
            self.preview.setText(self.video.note)
        self.seek(0.0)

    # ----------------------------------------------------------------------------------- UI
    def _build_ui(self) -> None:
        self.header = QLabel(self._header_html())
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.header.setWordWrap(True)
        self.header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.charts = pg.GraphicsLayoutWidget()
        self.charts.setBackground("w")
        self.timelines: dict[int, TrackPlot] = {}
        self.cursors: list[pg.InfiniteLine] = []
        self.share_bars: dict[int, pg.BarGraphItem] = {}
        self._fill_charts()
        self.charts.scene().sigMouseClicked.connect(self._on_click)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.charts)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.legend = QLabel(legend_html())
        self.legend.setTextFormat(Qt.TextFormat.RichText)

        self.preview = FramePreview("This session has no annotated video.")
        self.time_label = QLabel()
        self.export_button = QPushButton("Export PNG…")
        self.export_button.setToolTip("Save all charts of this session as one PNG image")
        self.export_button.clicked.connect(self._export_dialog)
        self.study = StudyPanel(self.data, lambda: self.cursor_s)
        self.study.changed.connect(self.reload)
        marker_key = QShortcut(QKeySequence("M"), self)  # a table being edited keeps its "m"
        marker_key.activated.connect(lambda: self.study.add_marker(self.cursor_s))
        for n in range(1, 10):  # a marker of kind n at the cursor (issue 30)
            QShortcut(QKeySequence(str(n)), self).activated.connect(
                lambda n=n: self.study.add_kind(self.cursor_s, n)
            )
        side = QVBoxLayout()
        side.addWidget(self.preview, 1)
        side.addWidget(self.time_label)
        side.addWidget(self.export_button)
        side.addWidget(self.study, 1)
        side_box = QWidget()
        side_box.setLayout(side)
        side_box.setFixedWidth(440)

        left = QVBoxLayout()
        left.addWidget(self.header)
        left.addWidget(scroll, 1)
        left.addWidget(self.legend)
        root = QHBoxLayout(self)
        root.addLayout(left, 1)
        root.addWidget(side_box)

    def _header_html(self) -> str:
        d, info = self.data, self.data.info
        esc = html.escape
        lines = [f"<b>{esc(d.folder.name)}</b> — {esc(str(info.get('source', 'unknown source')))}"]
        facts = [f"{d.duration_s:.1f} s", f"{len(d.tracks)} face(s)"]
        if "frames_processed" in info:
            facts.append(f"{info['frames_processed']} frames processed, "
                         f"{info.get('frames_dropped', 0)} dropped")  # fmt: skip
        if d.study:  # who and what, given at record time (issue 30)
            facts.append(", ".join(f"{k} {esc(v)}" for k, v in d.study.to_json().items() if v))
        if info.get("start_time"):
            facts.append(f"started {esc(str(info['start_time']).replace('T', ' '))}")
        lines.append(", ".join(facts))
        if info.get("detector") or info.get("model"):
            lines.append(
                f"detector: {esc(str(info.get('detector', '?')))}; "
                f"model: {esc(str(info.get('model', '?')))}"
            )
        lines.append("Probabilities as displayed (smoothed). Click a timeline to see that moment.")
        if d.problems:
            lines.append(f"<span style='color:#b05000'>Note: {esc('; '.join(d.problems))}.</span>")
        return "<br>".join(lines)

    def reload(self) -> None:
        """Read the session again (after a marker, a name or a merge was saved) and redraw."""
        try:
            self.data = load_session(self.data.folder)
        except UserError as err:
            show_error(self, err)
            return
        self.header.setText(self._header_html())
        for tp in self.timelines.values():
            tp.dispose()  # its valence ViewBox lives in the scene, not in the layout
        self.charts.clear()
        self.timelines, self.cursors, self.share_bars = {}, [], {}
        self._fill_charts()
        self.study.set_data(self.data)
        self.video.set_data(self.data)  # the overlay names participants as the charts do
        self.seek(self.cursor_s)

    def _fill_charts(self) -> None:
        tracks = sorted(self.data.tracks.values(), key=lambda t: -len(t.times))[:MAX_ROWS]
        tracks.sort(key=lambda t: t.track_id)
        t1 = max(self.data.duration_s, 1e-3)
        if not tracks:
            self.charts.addLabel("No face was found in this session.", row=0, col=0)
        for row, tr in enumerate(tracks):
            plot = self.charts.addPlot(row=row, col=0)
            tp = TrackPlot(plot, tr.track_id)
            tp.set_data(tr.times, tr.probs, label_codes(tr.labels), 0.0, t1)
            merged = (
                f" (tracks {tr.track_id}, {', '.join(map(str, tr.merged))})" if tr.merged else ""
            )
            tp.set_title(
                f"{tr.name}{merged}: {tr.times[0]:.1f}–{tr.times[-1]:.1f} s, "
                f"{len(tr.times)} frames, mostly {tr.dominant}"
            )
            tp.set_markers([(m.time_s, m.name, m.kind) for m in self.data.markers]
                           + setting_changes(self.data.info))  # fmt: skip
            plot.setLabel("bottom", "seconds")
            cursor = pg.InfiniteLine(0.0, angle=90, movable=False, pen=pg.mkPen("k", width=1))
            plot.addItem(cursor)
            self.cursors.append(cursor)
            self.timelines[tr.track_id] = tp
            self.share_bars[tr.track_id] = self._add_shares(row, tr.label_shares())
        self.charts.ci.layout.setColumnStretchFactor(0, 4)
        self.charts.ci.layout.setColumnStretchFactor(1, 1)
        self.charts.setMinimumHeight(ROW_HEIGHT * max(1, len(tracks)))

    def _add_shares(self, row: int, shares: dict[str, float]) -> pg.BarGraphItem:
        """Horizontal bars: the share of this face's frames shown with each label."""
        plot = self.charts.addPlot(row=row, col=1)
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setMouseEnabled(x=False, y=False)
        plot.setTitle("share of time", size="9pt")
        values = [shares[lab] for lab in LABELS]
        ys = np.arange(len(LABELS))
        bars = pg.BarGraphItem(
            x0=0,
            y=ys,
            height=0.7,
            width=values,
            brushes=[pg.mkBrush(rgb(lab)) for lab in LABELS],
            pen=pg.mkPen(None),
        )
        plot.addItem(bars)
        for y, v in zip(ys, values):
            text = pg.TextItem(f"{v:.0%}", color=(60, 60, 60), anchor=(0, 0.5))
            text.setPos(v + 0.02, y)
            plot.addItem(text)
        axis = plot.getAxis("left")
        axis.setTicks([[(i, lab) for i, lab in enumerate(LABELS)]])
        axis.setWidth(76)  # a label wider than its axis is not drawn: room for "uncertain"
        plot.getAxis("bottom").setTicks([[(0, "0"), (0.5, "50%"), (1, "100%")]])
        plot.setXRange(0, 1.45, padding=0)  # room for "100%" after a full bar (it was cut)
        plot.setYRange(-0.6, len(LABELS) - 0.4, padding=0)
        plot.invertY(True)
        return bars

    def seek(self, time_s: float) -> None:
        """Move the cursor to `time_s` and show annotated.mp4's frame there (when present)."""
        self.cursor_s = float(min(max(time_s, 0.0), self.data.duration_s))
        for line in self.cursors:
            line.setValue(self.cursor_s)
        self.time_label.setText(f"{self.cursor_s:.2f} s")
        if self.video.cap is None:
            self.seeked.emit(self.cursor_s)
            return
        # Seeking and decoding a long video can take a while: off the GUI thread, newest wins;
        # `seeked` follows when the frame is on screen.
        self._frames.run(self.video.read, self.video.index_at(self.cursor_s), self.cursor_s)

    def _on_frame(self, got: tuple) -> None:
        index, frame, time_s = got
        if frame is not None:
            self.preview.set_frame(frame)
            self.shown_frame = index
            self.time_label.setText(f"{time_s:.2f} s — video frame {index}")
        self.seeked.emit(time_s)

    def export_png(self, path: str | Path) -> Path:
        """Save every chart (all faces, with the legend colours) as one PNG at `path`."""
        path = Path(path)
        image = self.charts.grab()
        if image.isNull() or not image.save(str(path), "PNG"):
            raise UserError(f"Could not save {path}.", "Choose a writable folder.")
        return path

    def closeEvent(self, event) -> None:
        self._frames.cancel()
        self._frames.wait(5)
        self.video.release()
        super().closeEvent(event)

    # ------------------------------------------------------------------------------ internals
    def _on_click(self, event) -> None:
        pos = event.scenePos()
        for tp in self.timelines.values():
            if tp.plot.sceneBoundingRect().contains(pos):
                self.seek(tp.plot.vb.mapSceneToView(pos).x())
                return

    def _export_dialog(self) -> None:
        default = unique_path(self.data.folder / "charts.png")
        path, _ = QFileDialog.getSaveFileName(
            self, "Export the charts", str(default), "PNG images (*.png)"
        )
        if not path:
            return
        try:
            self.export_png(path)
        except UserError as err:
            show_error(self, err)


_OPEN: set[SessionView] = set()  # windows opened without a parent window stay alive here


def open_session(folder: str | Path, parent: QWidget | None = None) -> SessionView | None:
    """Open `folder` in its own window, kept by the parent's window (or here): a message if not."""
    try:
        view = SessionView(folder)
    except UserError as err:
        show_error(parent, err)
        return None
    owner = parent.window() if parent is not None else None
    if owner is not None:
        view.setParent(owner, Qt.WindowType.Window)  # Qt's parent keeps it; closes with the app
    else:
        _OPEN.add(view)
        view.destroyed.connect(lambda _obj=None, v=view: _OPEN.discard(v))
    view.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    fit_to_screen(view, 1280, 800, near=owner)
    view.show()
    QTimer.singleShot(0, lambda: keep_on_screen(view))  # again once the frame's size is known
    return view


def open_session_dialog(parent: QWidget | None = None) -> SessionView | None:
    """Ask for a session folder (starting in the sessions folder) and open it."""
    folder = QFileDialog.getExistingDirectory(parent, "Open a session", str(sessions_dir()))
    return open_session(folder, parent) if folder else None
