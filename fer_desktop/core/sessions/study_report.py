"""The study report (issue 30): one offline HTML file with, per condition, the mean over
participants of each class's mean probability (and, with a baseline, the corrected means) as
bars with 95% confidence intervals, and the tidy table's size. Plain inline SVG."""

from __future__ import annotations

import html
from datetime import datetime
from pathlib import Path

from fer_desktop.core.emotions import CLASSES
from fer_desktop.core.sessions.report import CAUTION, label_hex
from fer_desktop.core.sessions.study_table import condition_summary
from fer_desktop.core.support.fileio import atomic_write_text

W, H, TOP, LEFT, BOTTOM = 760, 270, 20, 50, 50


def bars_svg(summary: dict, lo: float, hi: float) -> str:
    """Grouped bars: a group per class, a bar per condition (shaded by condition), CI whiskers."""
    conds = sorted(summary)
    if not conds:
        return "<p>No data.</p>"
    gw = (W - LEFT) / len(CLASSES)
    bw = gw * 0.8 / len(conds)
    y = lambda v: TOP + (hi - v) / (hi - lo) * (H - TOP - BOTTOM)  # noqa: E731
    parts = [f'<svg width="{W}" height="{H}" xmlns="http://www.w3.org/2000/svg" font-size="11">',
             f'<line x1="{LEFT}" y1="{y(0):.1f}" x2="{W}" y2="{y(0):.1f}" stroke="#888"/>']  # fmt: skip
    for v in (lo, (lo + hi) / 2, hi):
        parts.append(f'<text x="{LEFT - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{v:+.2f}</text>')
    for gi, cls in enumerate(CLASSES):
        x0 = LEFT + gi * gw + gw * 0.1
        parts.append(
            f'<text x="{x0 + gw * 0.4:.1f}" y="{H - 22}" text-anchor="middle">{cls}</text>'
        )
        for ci, cond in enumerate(conds):
            mean, half, n = summary[cond].get(cls, (0.0, None, 0))
            x = x0 + ci * bw
            top, base = y(max(mean, 0)), y(min(mean, 0))
            opacity = 1.0 - 0.55 * ci / max(1, len(conds) - 1)
            parts.append(f'<rect x="{x:.1f}" y="{top:.1f}" width="{bw * 0.9:.1f}" '
                         f'height="{max(base - top, 0.5):.1f}" fill="{label_hex(cls)}" '
                         f'fill-opacity="{opacity:.2f}"><title>{html.escape(cond or "(none)")}: '
                         f'{mean:.3f}, n = {n}</title></rect>')  # fmt: skip
            cx = x + bw * 0.45
            parts.append(
                f'<text x="{cx:.1f}" y="{H - 32}" text-anchor="middle" font-size="9">{ci + 1}</text>'
            )
            if half is not None:
                parts.append(f'<line x1="{cx:.1f}" y1="{y(mean + half):.1f}" x2="{cx:.1f}" '
                             f'y2="{y(mean - half):.1f}" stroke="#222"/>')  # fmt: skip
    legend = " · ".join(
        f"{i + 1}: {html.escape(c or '(no condition)')}" for i, c in enumerate(conds)
    )
    parts.append(f'<text x="{LEFT}" y="{H - 6}">conditions {legend}; whiskers: 95% CI</text>')
    return "".join(parts) + "</svg>"


def study_html(rows: list[dict], sources: list[str]) -> str:
    esc = html.escape
    people = sorted({r["participant_id"] for r in rows})
    conds = sorted({r["condition"] for r in rows})
    raw = condition_summary(rows, "mean_probability")
    sections = [("Mean probability per class", bars_svg(raw, 0.0, 1.0))]
    if any(r["corrected_mean_probability"] for r in rows):
        corrected = condition_summary(rows, "corrected_mean_probability")
        sections.append(
            ("Baseline-corrected mean probability per class", bars_svg(corrected, -0.5, 0.5))
        )
    table = "".join(
        f"<tr><td>{esc(c or '(none)')}</td><td>{cls}</td><td>{m:.3f}</td>"
        f"<td>{'' if h is None else f'± {h:.3f}'}</td><td>{n}</td></tr>"
        for c in sorted(raw) for cls, (m, h, n) in raw[c].items()
    )  # fmt: skip
    body = "".join(f"<h2>{t}</h2>{svg}" for t, svg in sections)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Study report</title>
<style>body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 980px; color: #222; }}
table {{ border-collapse: collapse; font-size: 13px; }} td, th {{ border: 1px solid #ccc; padding: 3px 6px; }}
.caution {{ background: #fff6e0; border-left: 4px solid #e0a000; padding: 0.6em 1em; }}</style></head><body>
<h1>Study report</h1>
<p>{len(people)} participant(s) · {len(conds)} condition(s): {esc(", ".join(c or "(none)" for c in conds))} ·
{len(rows)} rows · written {datetime.now():%Y-%m-%d %H:%M}</p>
<p class="caution"><b>What this does and does not say.</b> {esc(CAUTION)}</p>
<p>Each participant's mean (over their segments, weighted by frames) is averaged per condition;
the interval is 1.96 standard errors across participants (shown from two participants on).</p>
{body}
<h2>Per condition and class</h2>
<table><tr><th>condition</th><th>class</th><th>mean probability</th><th>95% CI</th><th>participants</th></tr>{table}</table>
<h2>Sessions</h2><ul>{"".join(f"<li>{esc(s)}</li>" for s in sources)}</ul>
</body></html>"""


def write_study_report(rows: list[dict], sources: list[str], path: Path) -> Path:
    return atomic_write_text(path, study_html(rows, sources))
