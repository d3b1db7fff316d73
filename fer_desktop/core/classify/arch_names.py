"""The emotion architectures by name, without torch: what the Training form lists, what a recipe
may name, and each one's input size and speed. `nets.py` builds them (with torch) under these
names; a name here without a builder there (or the reverse) fails its import (issue 33)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ArchInfo:
    name: str
    input_size: int
    in_channels: int
    description: str
    size: str = ""  # e.g. "1.2 M weights"
    # Training images per second on a 2-core laptop CPU (measured where given; 0 = unknown):
    # the Training tab's time estimate.
    cpu_images_per_s: float = 0.0


ARCH_INFO: dict[str, ArchInfo] = {
    a.name: a
    for a in (
        ArchInfo(
            "simple_cnn",
            48,
            1,
            "The project's first CNN: 4 conv (64-128-512-512) + FC 256-512.",
            size="4.5 M weights",
        ),
        ArchInfo(
            "fer_net",
            48,
            1,
            "Project's own compact residual VGG: accurate and about 2 ms per face.",
            size="1.2 M weights",
            # measured: 280-330 img/s, 2 cores with AVX-512 BF16 (MODEL_CARD.md)
            cpu_images_per_s=300.0,
        ),
        ArchInfo(
            "tiny_cnn",
            48,
            1,
            "A very small fer_net (about 14 k weights): smoke tests, trains in seconds, not "
            "accurate.",
            size="14 k weights",
            cpu_images_per_s=3000.0,
        ),
        ArchInfo(
            "inception_resnet_v2",
            299,
            1,
            "Inception-ResNet-V2 (299x299): large; hours per epoch on a CPU, meant for a GPU.",
            size="54 M weights",
            cpu_images_per_s=4.0,
        ),
    )
}
