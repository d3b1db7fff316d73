"""A session's report: one self-contained HTML file (charts as inline SVG, no script, no network)
for someone who will never open a CSV: who was seen when, how they looked per segment, with
which model and settings, and what facial expression does and does not say."""

from __future__ import annotations

import html
from datetime import datetime
from pathlib import Path

import numpy as np

from fer_desktop.core.emotions import CLASSES, VALENCE_NOTE
from fer_desktop.core.render.overlay import CLASS_COLORS_BGR
from fer_desktop.core.sessions.reader import SessionData, TrackTimeline
from fer_desktop.core.sessions.segments import segment_rows
from fer_desktop.core.support.fileio import atomic_write_text

REPORT_NAME = "report.html"
CAUTION = (
    "These figures describe facial expressions as a model trained on posed and web photos "
    "reads them, frame by frame. A face can show an expression without the feeling (and the "
    "feeling without the expression); expressions differ between people, cultures and "
    "situations; the model makes mistakes, most often between fear, surprise and sadness. Use "
    "them to compare moments and segments of the same people, together with what was observed, "
    "not as a measure of anyone's inner state."
)
W, H, PAD = 900, 220, 36  # one chart's size in pixels


def label_hex(label: str) -> str:
    """A class's colour as the app draws it, as #rrggbb (the reports' charts)."""
    b, g, r = CLASS_COLORS_BGR.get(label, CLASS_COLORS_BGR["uncertain"])
    return f"#{r:02x}{g:02x}{b:02x}"


def _path(xs: np.ndarray, ys: np.ndarray, t1: float, y0: float, y1: float) -> str:
    """An SVG path through the points, broken where the face was away for over a second."""
    if len(xs) == 0:
        return ""
    px = PAD + (xs / max(t1, 1e-6)) * (W - 2 * PAD)
    py = PAD + (1 - (ys - y0) / (y1 - y0)) * (H - 2 * PAD)
    step = max(1, len(xs) // 1500)  # never more points than the chart has pixels
    parts, last = [], None
    for i in range(0, len(xs), step):
        cmd = "M" if last is None or xs[i] - last > 1.0 else "L"
        parts.append(f"{cmd}{px[i]:.1f},{py[i]:.1f}")
        last = xs[i]
    return " ".join(parts)


def _tick_step(t1: float) -> float:
    """A round step (1, 2, 5 x 10^n seconds) giving at most about 8 ticks over [0, t1]."""
    raw = max(t1, 1e-3) / 8
    base = 10 ** np.floor(np.log10(raw))
    return float(next(m * base for m in (1, 2, 5, 10) if m * base >= raw))


def track_svg(tr: TrackTimeline, t1: float, markers) -> str:
    """The 7 probabilities (0..1, left axis) and the valence (-1..1, dashed, right axis)."""
    out = [f'<svg width="{W}" height="{H}" '
           f'viewBox="0 0 {W} {H}" role="img" aria-label="{html.escape(tr.name)} timeline">',
           f'<rect x="{PAD}" y="{PAD}" width="{W - 2 * PAD}" height="{H - 2 * PAD}" '
           'fill="#fbfbfb" stroke="#bbb"/>']  # fmt: skip
    for v, label in ((0.0, "0"), (0.5, ".5"), (1.0, "1")):
        y = PAD + (1 - v) * (H - 2 * PAD)
        out.append(
            f'<text x="{PAD - 6}" y="{y + 4:.1f}" font-size="10" text-anchor="end">{label}</text>'
        )
    for v in (-1, 0, 1):
        y = PAD + (1 - (v + 1) / 2) * (H - 2 * PAD)
        out.append(f'<text x="{W - PAD + 6}" y="{y + 4:.1f}" font-size="10">{v:+d}</text>')
    step = _tick_step(t1)
    for k in range(int(t1 / step + 1e-9) + 1):
        t = k * step
        x = PAD + (t / max(t1, 1e-6)) * (W - 2 * PAD)
        out.append(
            f'<text x="{x:.1f}" y="{H - PAD + 14}" font-size="10" text-anchor="middle">{t:g} s</text>'
        )
    for m in markers:
        x = PAD + (m.time_s / max(t1, 1e-6)) * (W - 2 * PAD)
        out.append(f'<line x1="{x:.1f}" y1="{PAD}" x2="{x:.1f}" y2="{H - PAD}" stroke="#333" stroke-dasharray="2,3"/>'
                   f'<text x="{x + 3:.1f}" y="{PAD - 4}" font-size="10">{html.escape(m.name)}</text>')  # fmt: skip
    for i, c in enumerate(CLASSES):
        d = _path(tr.times, tr.probs[:, i], t1, 0.0, 1.0)
        out.append(
            f'<path d="{d}" fill="none" stroke="{label_hex(c)}" stroke-width="1.2"><title>{c}</title></path>'
        )
    d = _path(tr.times, tr.valence, t1, -1.0, 1.0)
    out.append(
        f'<path d="{d}" fill="none" stroke="#000" stroke-width="1.8" stroke-dasharray="5,3"><title>valence</title></path>'
    )
    out.append("</svg>")
    return "\n".join(out)


def setting_changes(info: dict) -> list[tuple[float, str]]:
    """(time_s, "threshold 0.35 → 0.55") for each valid entry of session.json's
    `setting_changes` (older sessions have none; malformed entries are skipped)."""
    out = []
    for c in info.get("setting_changes") or []:
        try:
            t = float(c["time_s"])
            text = f"{str(c['setting'])[:40]} {str(c.get('from'))[:80]} → {str(c.get('to'))[:80]}"
        except (TypeError, KeyError, ValueError):
            continue
        if t == t and abs(t) != float("inf"):
            out.append((t, text))
    return out


def report_html(session: SessionData, window_s: float | None = None) -> str:
    d, info, esc = session, session.info, html.escape
    rows = segment_rows(session, window_s)
    legend = " ".join(
        f'<span style="color:{label_hex(c)}">&#9632;</span>&nbsp;{c}' for c in CLASSES
    )
    legend += " &nbsp;<b>- - -</b>&nbsp;valence (right axis)"
    settings = info.get("settings") or {}
    shown = (
        "detector",
        "model",
        "device",
        "precision",
        "smoothing",
        "threshold",
        "detect_every",
        "every",
    )
    settings_rows = "".join(
        f"<tr><th>{esc(k)}</th><td>{esc(str(settings[k]))}</td></tr>"
        for k in shown
        if k in settings
    )
    seg_head = "".join(
        f"<th>{h}</th>"
        for h in ("segment", "from", "to", "participant", "frames", "dominant", *CLASSES, "valence")
    )
    seg_body = "".join(
        "<tr>" + "".join(f"<td>{esc(str(v))}</td>" for v in (
            r["segment"], f"{float(r['start_s']):.1f} s", f"{float(r['end_s']):.1f} s", r["participant"],
            r["frames"], r["dominant"], *(f"{float(r[f'mean_{c}']):.0%}" for c in CLASSES),
            f"{float(r['mean_valence']):+.2f}")) + "</tr>"
        for r in rows
    )  # fmt: skip
    charts = "".join(
        f"<h3>{esc(tr.name)}</h3><p class='small'>{tr.times[0]:.1f}–{tr.times[-1]:.1f} s, "
        f"{len(tr.times)} frames, mostly {esc(tr.dominant)}"
        + (f"; merged from tracks {', '.join(str(t) for t in (tr.track_id, *tr.merged))}" if tr.merged else "")
        + f"</p>{track_svg(tr, max(d.duration_s, 1e-3), d.markers)}"
        for tr in sorted(d.tracks.values(), key=lambda t: t.track_id)
    ) or "<p>No face was found in this session.</p>"  # fmt: skip
    markers = (
        "".join(f"<li>{m.time_s:.1f} s: {esc(m.name)}</li>" for m in d.markers) or "<li>none</li>"
    )
    changes = (
        "".join(f"<li>{t:.1f} s: {esc(text)}</li>" for t, text in setting_changes(info))
        or "<li>none: the settings above held for the whole session</li>"
    )
    hidden = (
        f" ({len(d.hidden)} more seen less than {d.annotations.hide_shorter_s:g} s, hidden: "
        "faces.csv keeps them)"
        if d.hidden
        else ""
    )
    st = d.study
    study = (
        f"<p><b>Participant</b> {esc(st.participant or '-')} · <b>condition</b> "
        f"{esc(st.condition or '-')}{(' · ' + esc(st.note)) if st.note else ''}</p>"
        if st
        else ""
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Session {esc(d.folder.name)}: emotion report</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 960px; color: #222; }}
table {{ border-collapse: collapse; font-size: 13px; }} td, th {{ border: 1px solid #ccc; padding: 3px 6px; }}
th {{ background: #f2f2f2; text-align: left; }} .small {{ color: #555; font-size: 13px; }}
.caution {{ background: #fff6e0; border-left: 4px solid #e0a000; padding: 0.6em 1em; }}
</style></head><body>
<h1>Session {esc(d.folder.name)}</h1>
<p>{esc(str(info.get("source", "unknown source")))} · {d.duration_s:.1f} s · {len(d.tracks)} participant(s){hidden}
· started {esc(str(info.get("start_time", "?")).replace("T", " "))} · report written {datetime.now():%Y-%m-%d %H:%M}</p>
{study}<p class="caution"><b>What this does and does not say.</b> {esc(CAUTION)}</p>
<h2>Model and settings</h2>
<table><tr><th>face detector</th><td>{esc(str(info.get("detector", "?")))}</td></tr>
<tr><th>emotion model</th><td>{esc(str(info.get("model", "?")))} (its measured accuracy is in its name where it is
known; see the model card for per-class figures)</td></tr>{settings_rows}</table>
<p class="small">Probabilities as displayed in the app (smoothed per face). {esc(VALENCE_NOTE)}</p>
<h2>Settings changed during the session</h2><ul>{changes}</ul>
<h2>Markers</h2><ul>{markers}</ul>
<h2>Segments</h2>
<table><tr>{seg_head}</tr>{seg_body}</table>
<p class="small">Per segment and participant: the mean probability of each class over the frames in the segment, the
class with the highest mean, the mean valence.</p>
<h2>Timelines</h2><p class="small">{legend}</p>
{charts}
{actions_html(session)}
</body></html>
"""


ACTION_SUMMARY = (("smile", "smile"), ("bs_browInnerUp", "brow raise"), ("bs_jawOpen", "jaw open"),
                  ("blink_left", "blink L"), ("blink_right", "blink R"), ("yaw", "yaw °"),
                  ("pitch", "pitch °"), ("roll", "roll °"))  # fmt: skip


def actions_html(session: SessionData) -> str:
    """Facial actions per participant (issue 31): the mean of a few blendshapes and the head
    pose over the frames measured, and the blinks counted; "" for a session without them."""
    tracks = [
        (tid, tr)
        for tid, tr in sorted(session.tracks.items())
        if (~np.isnan(tr.action("yaw"))).any()
    ]  # measured in at least one frame
    if not tracks:
        return ""
    esc = html.escape
    head = "".join(f"<th>{esc(n)}</th>" for _, n in ACTION_SUMMARY)
    body = ""
    for tid, tr in tracks:
        cells = []
        for key, _ in ACTION_SUMMARY:
            v = tr.action(key)
            v = v[~np.isnan(v)]
            cells.append(f"{v.mean():.2f}" if len(v) else "")
        measured = int((~np.isnan(tr.action("yaw"))).sum())
        body += (f"<tr><td>{esc(tr.name or f'Face {tid}')}</td><td>{measured}</td>"
                 + "".join(f"<td>{c}</td>" for c in cells) + f"<td>{len(tr.blinks())}</td></tr>")  # fmt: skip
    return (
        "<h2>Facial actions</h2><table><tr><th>participant</th><th>frames measured</th>"
        f'{head}<th>blinks</th></tr>{body}</table><p class="small">Means over the frames '
        "measured: MediaPipe blendshape scores (0-1, not FACS intensities) and head pose in "
        "degrees (yaw &gt; 0: turned to their own left). See docs/facial-actions.md.</p>"
    )


def write_report(
    session: SessionData, path: str | Path | None = None, window_s: float | None = None
) -> Path:
    path = Path(path) if path else session.folder / REPORT_NAME
    return atomic_write_text(path, report_html(session, window_s))
