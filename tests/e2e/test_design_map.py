"""docs/design.md is the map of the tree: every module is named in it, every name in it exists."""

from __future__ import annotations

import re

from shared_paths import REPO

DOC = REPO / "docs" / "design.md"


def _modules() -> set[str]:
    """Module paths as the map writes them: core/…, cli/…, ui/…, workers/…, fer_training/…."""
    out = set()
    for p in (REPO / "fer_desktop").rglob("*.py"):
        rel = p.relative_to(REPO / "fer_desktop").as_posix()
        if p.name in ("__init__.py", "__main__.py") and rel != "cli/__init__.py":
            continue
        out.add(rel)
    for p in (REPO / "training" / "fer_training").rglob("*.py"):
        if p.name not in ("__init__.py", "__main__.py"):
            out.add("fer_training/" + p.relative_to(REPO / "training" / "fer_training").as_posix())
    return out


def test_every_module_is_on_the_map_and_every_name_on_it_exists():
    text = DOC.read_text(encoding="utf-8")
    named = set(re.findall(r"`([\w/]+\.py)`", text))
    missing = sorted(_modules() - named)
    assert not missing, f"modules not in docs/design.md: {missing}"
    modules = _modules()
    stale = sorted(n for n in named if n not in modules and not (REPO / n).is_file())
    assert not stale, f"docs/design.md names files that do not exist: {stale}"


def test_readme_links_the_docs_that_exist():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\((docs/[\w.-]+\.md)", readme)
    assert {
        "docs/design.md",
        "docs/training.md",
        "docs/benchmarks.md",
        "docs/development.md",
    } <= set(links)
    for link in links:
        assert (REPO / link).is_file(), link
