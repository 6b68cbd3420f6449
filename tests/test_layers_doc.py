"""docs/layers.md is generated from data/places.toml and must not drift from it."""

from __future__ import annotations

from layers.catalogue import load_catalogue
from scripts.gen_layers_doc import OUT, PLACES, render


def test_layers_doc_is_up_to_date() -> None:
    expected = render(load_catalogue(shipped=PLACES))
    assert OUT.exists(), f"{OUT} is missing: run `python scripts/gen_layers_doc.py`"
    actual = OUT.read_text(encoding="utf-8")
    assert actual == expected, (
        f"{OUT} is out of date with data/places.toml: run `python scripts/gen_layers_doc.py`"
    )


def test_layers_doc_lists_every_place_and_the_unmapped_ones() -> None:
    cat = load_catalogue(shipped=PLACES)
    text = render(cat)
    for p in cat.places:
        assert f"| `{p.id}` | {p.name_zh} |" in text
    unmapped = text.split("## Listed, not mapped", 1)[1]
    for p in cat.unmapped():
        assert f"`{p.id}`" in unmapped
    assert "## Approximations" in text
