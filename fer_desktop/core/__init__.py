"""The Qt-free core, in feature folders (docs/design.md has the map). Never imports Qt; only its
torch modules import torch (import-linter contracts in pyproject.toml)."""
