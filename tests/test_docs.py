"""The documentation says what the code does: the defaults in docs/settings.md are the code's."""

import ast
import inspect
import re
from pathlib import Path

import pytest

from ganaug import GANConfig, GANOverSampler, SyntheticAugmenter

ROOT = Path(__file__).resolve().parents[1]
HEADER = "| parameter | default | meaning |"
ROW = re.compile(r"^\|\s*`(\w+)`\s*\|\s*`([^`]*)`\s*\|")


def _tables(path: Path) -> list[dict]:
    """Every table of ``path`` under the header line HEADER, as {parameter: default value}."""
    tables, current = [], None
    for line in path.read_text().splitlines():
        if line.strip() == HEADER:
            current = {}
            tables.append(current)
        elif current is not None and line.startswith("|"):
            match = ROW.match(line)
            if match:
                assert match.group(1) not in current, f"{match.group(1)} is listed twice in one table"
                current[match.group(1)] = ast.literal_eval(match.group(2))
        elif current is not None and line.strip():
            current = None
    return tables


def _table_with(tables: list[dict], name: str) -> dict:
    found = [t for t in tables if name in t]
    assert len(found) == 1, f"expected one table listing {name!r} in docs/settings.md"
    return found[0]


def test_gan_defaults_in_the_docs_are_the_code_defaults():
    table = _table_with(_tables(ROOT / "docs" / "settings.md"), "latent_dim")
    assert table == GANConfig().get_params()  # every field, with its default, and nothing else


def test_estimator_defaults_in_the_docs_are_the_code_defaults():
    table = _table_with(_tables(ROOT / "docs" / "settings.md"), "checkpoint_every")
    params = inspect.signature(SyntheticAugmenter).parameters
    assert table == {name: p.default for name, p in params.items()}
    # GANOverSampler shares the GAN keywords with the same defaults
    sampler = inspect.signature(GANOverSampler).parameters
    for name in ("gan", "architecture", "n_steps", "random_state", "device"):
        assert sampler[name].default == table[name], name


@pytest.mark.parametrize(
    "name", ["README.md", "CHANGELOG.md", *[p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").glob("*.md")]]
)
def test_user_docs_quote_no_commit_hashes(name):
    text = (ROOT / name).read_text()
    hashes = re.findall(r"\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*[0-9])[0-9a-f]{7,40}\b", text)
    assert not hashes, f"commit hashes {hashes} date quickly; say what changed instead"


def test_readme_is_a_page_not_a_log():
    text = (ROOT / "README.md").read_text()
    lines = text.splitlines()
    assert len(lines) <= 200
    # it opens with the two commands a fresh machine runs: the ablation, then the tests
    first_block = text.split("```")[1].splitlines()
    commands = [line.split("#")[0].strip() for line in first_block[1:] if line.strip()]
    assert commands == [
        'pip install -e ".[recipes]" && python recipes/mnist_augment.py --quick',
        'pip install -e ".[test]" && pytest',
    ]
    # a product page's parts, in a product page's order: what it is, how to start, one results table, links
    headings = [line[3:] for line in lines if line.startswith("## ")]
    assert headings[:2] == ["Quick start", "Results"] and "Documentation" in headings
    results = text.split("## Results")[1].split("\n## ")[0]
    assert any(line.startswith("|---") for line in results.splitlines()), "Results has no table"
    for link in re.findall(r"\]\(([^)#]+\.md)\)", text):
        assert (ROOT / link).is_file(), f"README links to {link}, which does not exist"
    # no log: no dated entries or changelog sections (those belong in CHANGELOG.md and docs/history/)
    assert not re.search(r"\b20\d\d-\d\d-\d\d\b", text), "dates belong in CHANGELOG.md"
    assert not re.search(r"^#+ \[?(Unreleased|\d+\.\d+)", text, re.M), "release sections belong in CHANGELOG.md"
