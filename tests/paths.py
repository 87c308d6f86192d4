"""Where the tests' own files live. Everything a test reads is inside the checkout: a user's fresh clone
has nothing beside it."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
# Real files written by Excel, WPS and LibreOffice (SheetJS, Apache POI: Apache-2.0, calamine: MIT; licences beside them).
CORPUS = ROOT / "tests" / "corpus"
CORPUS_COUNT = 33


def corpus_files(*suffixes: str) -> list[Path]:
    """The corpus files with these suffixes. A missing corpus fails loudly instead of shrinking a
    parametrized test to nothing."""
    every = sorted(p for p in CORPUS.rglob("*") if p.is_file() and not p.name.startswith(("LICENSE", "README")))
    if len(every) != CORPUS_COUNT:
        raise RuntimeError(f"tests/corpus holds {len(every)} files, expected {CORPUS_COUNT}: restore it from git")
    return [p for p in every if p.suffix in suffixes]
