"""Model zoo: emotion classifier architectures selectable by name.

Lives in the core (not in training/) because the app must rebuild any architecture named in a
checkpoint. Add a model with `@register(...)`; the training loop never needs to change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch
from torch import nn

from fer_desktop.core.classify.arch_names import ARCH_INFO, ArchInfo


@dataclass(frozen=True)
class ArchSpec(ArchInfo):
    """An architecture's torch-free facts (`arch_names.ARCH_INFO`) and its builder."""

    build: Callable[..., nn.Module] = nn.Identity


ARCHITECTURES: dict[str, ArchSpec] = {}


def register(name: str):
    """Register the builder of `name`, an architecture listed in `arch_names.ARCH_INFO`."""

    def deco(fn: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        ARCHITECTURES[name] = ArchSpec(**asdict(ARCH_INFO[name]), build=fn)
        return fn

    return deco


def build_model(name: str, num_classes: int = 7, **kwargs) -> nn.Module:
    if name not in ARCHITECTURES:
        known = ", ".join(sorted(ARCHITECTURES))
        raise KeyError(f"unknown architecture '{name}' (known: {known})")
    return ARCHITECTURES[name].build(num_classes=num_classes, **kwargs)


def _conv_bn(
    cin: int,
    cout: int,
    k: int | tuple[int, int] = 3,
    stride: int = 1,
    padding: int | tuple[int, int] | None = None,
):
    pad = (k // 2 if isinstance(k, int) else (k[0] // 2, k[1] // 2)) if padding is None else padding
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, stride=stride, padding=pad, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


# --- simple_cnn: the project's first model -------------------------------------------------------


@register("simple_cnn")
def simple_cnn(num_classes: int = 7, dropout: float = 0.25) -> nn.Module:
    def block(cin: int, cout: int, k: int) -> nn.Sequential:
        return nn.Sequential(
            nn.Conv2d(cin, cout, k, padding=k // 2),
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Dropout(dropout),
        )

    return nn.Sequential(
        block(1, 64, 3),
        block(64, 128, 5),
        block(128, 512, 3),
        block(512, 512, 3),
        nn.Flatten(),
        nn.Linear(512 * 3 * 3, 256),
        nn.BatchNorm1d(256),
        nn.ReLU(inplace=True),
        nn.Dropout(dropout),
        nn.Linear(256, 512),
        nn.BatchNorm1d(512),
        nn.ReLU(inplace=True),
        nn.Dropout(dropout),
        nn.Linear(512, num_classes),
    )


# --- fer_net: the project's own accurate and fast network -----------------------------------------


class _ResStage(nn.Module):
    """Two or more 3x3 conv-bn-relu layers with a residual shortcut around them."""

    def __init__(self, cin: int, cout: int, depth: int = 2) -> None:
        super().__init__()
        layers = [_conv_bn(cin, cout)] + [_conv_bn(cout, cout) for _ in range(depth - 1)]
        self.body = nn.Sequential(*layers[:-1], layers[-1][0], layers[-1][1])
        self.short = (
            nn.Identity()
            if cin == cout
            else nn.Sequential(nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout))
        )
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.body(x) + self.short(x))


class FerNet(nn.Module):
    """Compact residual VGG for 48x48 grayscale faces: 4 stages at 48/24/12/6 px, GAP, linear."""

    def __init__(
        self,
        num_classes: int = 7,
        widths: tuple[int, ...] = (32, 64, 128, 256),
        depths: tuple[int, ...] = (2, 2, 2, 2),
        dropout: float = 0.3,
    ) -> None:
        super().__init__()
        stages: list[nn.Module] = [_conv_bn(1, widths[0])]
        cin = widths[0]
        for i, (w, d) in enumerate(zip(widths, depths)):
            if i:
                stages.append(nn.MaxPool2d(2))
            stages.append(_ResStage(cin, w, d))
            cin = w
        self.features = nn.Sequential(*stages)
        self.head = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout), nn.Linear(cin, num_classes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


@register("fer_net")
def fer_net(num_classes: int = 7, **kwargs) -> nn.Module:
    if "widths" in kwargs:
        kwargs["widths"] = tuple(kwargs["widths"])
    if "depths" in kwargs:
        kwargs["depths"] = tuple(kwargs["depths"])
    return FerNet(num_classes=num_classes, **kwargs)


@register("tiny_cnn")
def tiny_cnn(num_classes: int = 7, dropout: float = 0.1) -> nn.Module:
    return FerNet(
        num_classes=num_classes, widths=(8, 16, 24, 32), depths=(1, 1, 1, 1), dropout=dropout
    )


# --- inception_resnet_v2 (Szegedy et al. 2016) ---------------------------------------------------


class _Mixed5b(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.b0 = _conv_bn(192, 96, 1)
        self.b1 = nn.Sequential(_conv_bn(192, 48, 1), _conv_bn(48, 64, 5))
        self.b2 = nn.Sequential(_conv_bn(192, 64, 1), _conv_bn(64, 96, 3), _conv_bn(96, 96, 3))
        self.b3 = nn.Sequential(
            nn.AvgPool2d(3, 1, 1, count_include_pad=False), _conv_bn(192, 64, 1)
        )

    def forward(self, x):
        return torch.cat([self.b0(x), self.b1(x), self.b2(x), self.b3(x)], 1)


class _Block35(nn.Module):
    def __init__(self, scale: float) -> None:
        super().__init__()
        self.scale = scale
        self.b0 = _conv_bn(320, 32, 1)
        self.b1 = nn.Sequential(_conv_bn(320, 32, 1), _conv_bn(32, 32, 3))
        self.b2 = nn.Sequential(_conv_bn(320, 32, 1), _conv_bn(32, 48, 3), _conv_bn(48, 64, 3))
        self.conv = nn.Conv2d(128, 320, 1)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x):
        up = self.conv(torch.cat([self.b0(x), self.b1(x), self.b2(x)], 1))
        return self.act(x + self.scale * up)


class _Mixed6a(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.b0 = _conv_bn(320, 384, 3, 2, 0)
        self.b1 = nn.Sequential(
            _conv_bn(320, 256, 1), _conv_bn(256, 256, 3), _conv_bn(256, 384, 3, 2, 0)
        )
        self.b2 = nn.MaxPool2d(3, 2)

    def forward(self, x):
        return torch.cat([self.b0(x), self.b1(x), self.b2(x)], 1)


class _Block17(nn.Module):
    def __init__(self, scale: float) -> None:
        super().__init__()
        self.scale = scale
        self.b0 = _conv_bn(1088, 192, 1)
        self.b1 = nn.Sequential(
            _conv_bn(1088, 128, 1),
            _conv_bn(128, 160, (1, 7), padding=(0, 3)),
            _conv_bn(160, 192, (7, 1), padding=(3, 0)),
        )
        self.conv = nn.Conv2d(384, 1088, 1)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.act(x + self.scale * self.conv(torch.cat([self.b0(x), self.b1(x)], 1)))


class _Mixed7a(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.b0 = nn.Sequential(_conv_bn(1088, 256, 1), _conv_bn(256, 384, 3, 2, 0))
        self.b1 = nn.Sequential(_conv_bn(1088, 256, 1), _conv_bn(256, 288, 3, 2, 0))
        self.b2 = nn.Sequential(
            _conv_bn(1088, 256, 1), _conv_bn(256, 288, 3), _conv_bn(288, 320, 3, 2, 0)
        )
        self.b3 = nn.MaxPool2d(3, 2)

    def forward(self, x):
        return torch.cat([self.b0(x), self.b1(x), self.b2(x), self.b3(x)], 1)


class _Block8(nn.Module):
    def __init__(self, scale: float, activation: bool = True) -> None:
        super().__init__()
        self.scale = scale
        self.b0 = _conv_bn(2080, 192, 1)
        self.b1 = nn.Sequential(
            _conv_bn(2080, 192, 1),
            _conv_bn(192, 224, (1, 3), padding=(0, 1)),
            _conv_bn(224, 256, (3, 1), padding=(1, 0)),
        )
        self.conv = nn.Conv2d(448, 2080, 1)
        self.act = nn.ReLU(inplace=True) if activation else nn.Identity()

    def forward(self, x):
        return self.act(x + self.scale * self.conv(torch.cat([self.b0(x), self.b1(x)], 1)))


class InceptionResNetV2(nn.Module):
    """Inception-ResNet-V2 with scaled residuals (0.17 / 0.10 / 0.20), for 299x299 input."""

    def __init__(self, num_classes: int = 7, in_channels: int = 1, dropout: float = 0.2) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            _conv_bn(in_channels, 32, 3, 2, 0),
            _conv_bn(32, 32, 3, 1, 0),
            _conv_bn(32, 64, 3),
            nn.MaxPool2d(3, 2),
            _conv_bn(64, 80, 1),
            _conv_bn(80, 192, 3, 1, 0),
            nn.MaxPool2d(3, 2),
            _Mixed5b(),
        )
        self.blocks = nn.Sequential(
            *[_Block35(0.17) for _ in range(10)],
            _Mixed6a(),
            *[_Block17(0.10) for _ in range(20)],
            _Mixed7a(),
            *[_Block8(0.20) for _ in range(9)],
            _Block8(1.0, activation=False),
        )
        self.head = nn.Sequential(
            _conv_bn(2080, 1536, 1),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Dropout(dropout),
            nn.Linear(1536, num_classes),
        )

    def forward(self, x):
        return self.head(self.blocks(self.stem(x)))


@register("inception_resnet_v2")
def inception_resnet_v2(num_classes: int = 7, **kwargs) -> nn.Module:
    return InceptionResNetV2(num_classes=num_classes, **kwargs)


if set(ARCHITECTURES) != set(ARCH_INFO):  # every listed name has a builder, and only those
    raise ImportError(
        f"arch_names.ARCH_INFO {sorted(ARCH_INFO)} and the builders {sorted(ARCHITECTURES)} differ"
    )
