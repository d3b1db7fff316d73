"""The About box and the Training tab's texts where PyTorch is missing."""

from __future__ import annotations

from fer_desktop import __version__

ABOUT = f"""<h3>fer-desktop {__version__}</h3>
<p>Live facial emotion recognition: finds every face in a camera, video or photo and shows one of
seven emotions (angry, disgust, fear, happy, neutral, sad, surprise) with its confidence.</p>
<p><b>Licences</b></p>
<ul>
<li>fer-desktop: AGPL-3.0-or-later.</li>
<li>YOLOv8 face detector weights (<i>arnabdhar/YOLOv8-Face-Detection</i>, downloaded on request)
and the <i>ultralytics</i> library: AGPL-3.0.</li>
<li>Offline face detector: YuNet (OpenCV Zoo, Shiqi Yu and contributors), MIT.</li>
<li>Emotion models: trained by this project on FER2013 (ICML 2013 challenge) and CK+ (Lucey et
al. 2010), both for research use and not redistributed; figures and terms in
resources/models/MODEL_CARD.md.</li>
<li>Emoji graphics from Twemoji, Copyright 2014–2021 Twitter, Inc. and other contributors,
Copyright 2022–present Jason Sofonia &amp; Justine De Caires and other contributors, licensed under
CC-BY 4.0 (https://creativecommons.org/licenses/by/4.0/). Converted from SVG to 72×72 PNG.</li>
<li>Qt for Python (PySide6): LGPL-3.0; PyTorch: BSD-3-Clause; OpenCV: Apache-2.0.</li>
</ul>"""


NO_TRAINING_PIP_HTML = """<h3>Training needs PyTorch</h3>
<p>This install of fer-desktop has no PyTorch (<code>pip install -e .</code> installs the app
alone, which keeps it small). It recognises emotions (Live, Photos, Videos) without it. Training
your own models, exporting them and the YOLOv8 face detector need PyTorch:</p>
<p>in the source folder, with Python 3.11: <code>pip install -e ".[train]"</code>, then restart
<code>fer-desktop</code>. <code>docs/training.md</code> in the source folder shows how to take the CPU-only PyTorch
(about 1 GB instead of 5 GB).</p>"""

NO_TRAINING_HTML = """<h3>Training needs the full build</h3>
<p>This is the small build of fer-desktop. It recognises emotions (Live, Photos, Videos) without
PyTorch, which keeps it small. Training your own models and the YOLOv8 face detector need PyTorch.
Two ways to get them:</p>
<ul>
<li><b>The full build</b> (about 3.5 GB): from the source folder, with Python 3.11,
<code>pip install -e ".[build]"</code> then <code>FER_BUNDLE=full pyinstaller build.spec</code>.</li>
<li><b>A Python install</b>: from the source folder, with Python 3.11,
<code>pip install -e ".[train]"</code> then run <code>fer-desktop</code>.</li>
</ul>
<p>A model trained there (<code>best.onnx</code>, written next to <code>best.pt</code>) opens here
with <i>Model &rarr; Load model&hellip;</i>. The README's stand-alone section has the details.</p>"""


def files_html() -> str:
    """Help ▸ Where your files are: the per-user folder and what is in it (README's table)."""
    from html import escape

    from fer_desktop.core.support.resources import user_data_dir, user_folder_notice

    home = user_data_dir()
    rows = "".join(
        f"<li><b>{what}</b>: <code>{escape(str(home / name))}</code></li>"
        for what, name in (
            ("Settings", "settings.json"),
            ("The log (attach it to bug reports)", "fer-desktop.log"),
            ("Recordings and analysed videos", "sessions"),
            ("Batch jobs", "jobs"),
            ("Training runs", "runs"),
        )
    )
    notice = user_folder_notice()
    warn = f"<p><b>{escape(notice)}</b></p>" if notice else ""
    return (
        f"<h3>Where your files are</h3>{warn}<p>Everything fer-desktop saves is in one folder "
        f"(set <code>FER_DESKTOP_HOME</code> to use another):</p><ul>{rows}</ul>"
        "<p>Annotated photos go to the folder you choose when saving them.</p>"
    )


KEYS_HTML = """<h3>Keyboard and mouse</h3>
<ul>
<li><b>Ctrl+O</b> open a video; <b>Ctrl+Shift+O</b> open photos; <b>Ctrl+Q</b> quit.</li>
<li>Live: <b>M</b> adds a marker while recording; a click on a face shows its bars.</li>
<li>Session window: a click on a timeline moves the cursor and shows that moment; <b>M</b> adds
a marker at the cursor; names and markers are edited in their tables.</li>
<li>Photos and Videos: drop files or folders on the tab.</li>
</ul>"""

FACIAL_ACTIONS_TIP = (
    "52 blendshape scores, blinks and head pose per face in faces.csv and the photo CSV "
    "(docs/facial-actions.md); about 15 ms more per face"
)
