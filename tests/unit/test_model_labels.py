"""What the app says about its model and device is what is true, in the README's words."""

from __future__ import annotations

import re

from fer_desktop.core.classify.classifier import EmotionClassifier
from fer_desktop.core.support.devices import cpu_has_native_bf16, resolve_precision


def test_default_model_is_named_with_its_ferplus_and_ckplus_accuracy():
    clf = EmotionClassifier()
    text = clf.accuracy_text
    assert re.fullmatch(r"\d\d\.\d% on FER\+ Valid, \d\d\.\d% on CK\+ test", text), text
    assert clf.accuracy_text in clf.name
    assert (
        clf.runtime.startswith("cpu (") and clf.backend in clf.runtime
    )  # e.g. "cpu (fp32, onnxruntime)"


def test_auto_precision_picks_bf16_only_where_the_cpu_has_it():
    assert resolve_precision("cpu", "auto") == ("bf16" if cpu_has_native_bf16() else "fp32")
    assert resolve_precision("cuda", "auto") == "fp16"
    assert resolve_precision("cpu", "fp32") == "fp32" and resolve_precision("mps", "auto") == "fp32"
