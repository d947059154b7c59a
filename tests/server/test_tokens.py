"""The token estimate against o200k_base: the calibration, held to a tolerance band.

Fixtures are what the server really shows: the demo space's content (English prose, lists, code,
links), its structures as get_space renders them, a listing full of ids, and prose in six
languages (tests/fixtures/text). `bpe_openai` ships the o200k_base data (nothing is downloaded),
as bench/tools_list_tokens.py uses it.
"""

from __future__ import annotations

import base64
import datetime
import random
from functools import cache
from pathlib import Path

import bpe_openai
import pytest

from capacities_mcp.api.models import Space, Structure
from capacities_mcp.sandbox._seed import demo_space
from capacities_mcp.server._render import render_space
from capacities_mcp.server._tokens import estimate_tokens, token_end, token_span

TEXTS = Path(__file__).parent.parent / "fixtures" / "text"
DAY = datetime.date(2026, 1, 5)  # any day: the seed's content does not depend on it


@cache
def _o200k() -> bpe_openai.Encoding:
    return bpe_openai.get_encoding("o200k_base")


def real_tokens(text: str) -> int:
    return len(_o200k().encode(text))


def _seed_texts() -> dict[str, str]:
    seed = demo_space(DAY)
    texts = {f"seed {o.title}": o.markdown for o in seed.objects if len(o.markdown) >= 400}
    structures = [Structure.model_validate(s) for s in seed.structures]
    texts["get_space"] = render_space(Space.model_validate(seed.space), structures)
    texts["listing"] = "\n".join(f"- {o.title} — {o.structure_id} `{o.id}`" for o in seed.objects)
    return texts


def _languages() -> dict[str, str]:
    return {path.stem: path.read_text(encoding="utf-8") for path in sorted(TEXTS.glob("*.md"))}


def test_latin_script_content_is_estimated_within_ten_percent() -> None:
    """English prose, Markdown, code and ids: what most spaces hold, within -10% / +12% each."""
    ratios = {name: estimate_tokens(text) / real_tokens(text) for name, text in _seed_texts().items()}
    assert len(ratios) >= 10
    off = {name: round(r, 3) for name, r in ratios.items() if not 0.9 <= r <= 1.12}
    assert not off, off
    total = sum(estimate_tokens(t) for t in _seed_texts().values())
    assert 0.95 <= total / sum(real_tokens(t) for t in _seed_texts().values()) <= 1.05


@pytest.mark.parametrize("language", ["de", "ja", "ko", "ru", "zh"])
def test_other_scripts_are_estimated_on_the_high_side(language: str) -> None:
    """CJK and Cyrillic prose: never under, at most 45% over (pages a little small, never big)."""
    text = _languages()[language]
    ratio = estimate_tokens(text) / real_tokens(text)
    assert 0.95 <= ratio <= 1.45, (language, ratio)


def test_unusual_text_is_under_estimated_at_most_twofold() -> None:
    """Text no tokenizer has seen (random rare ideographs, base64, emoji): a 10,000-token page of it
    still costs under 20,000 real tokens."""
    rng = random.Random(7)
    texts = {
        "rare ideographs": "".join(chr(rng.randint(0x4E00, 0x9FFF)) for _ in range(4000)),
        "base64": base64.b64encode(rng.randbytes(6000)).decode(),
        "hex ids": rng.randbytes(5000).hex(),
        "emoji": "".join(chr(rng.randint(0x1F300, 0x1F5FF)) for _ in range(2000)),
        "symbols": "".join(chr(rng.randint(0x2190, 0x22FF)) for _ in range(4000)),
        "one long word": "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(8000)),
    }
    for name, text in texts.items():
        assert real_tokens(text) <= 2 * estimate_tokens(text), name


def test_a_budget_ends_where_the_estimate_reaches_it() -> None:
    text = "".join(_languages().values()) * 3
    for start in (0, 17, 1000):
        end = token_end(text, start, 500)
        assert 480 <= estimate_tokens(text[start:end]) <= 501
    assert token_end(text, len(text), 500) == len(text)
    assert token_end("x" * 10_000, 0, 1) >= 1  # always forward, even inside one long run


@pytest.mark.parametrize("budget", [1, 50, 1_000, 100_000])
def test_a_span_says_what_its_run_costs(budget: int) -> None:
    """`token_span` measures the run it cuts: what `estimate_tokens` says of that run (pieces are
    priced alike; only a piece cut in the middle is priced by its share)."""
    text = "Words and 漢字 mixed, with a verylongwordthatmustbecut" + "x" * 5_000 + " end. " * 300
    end, tokens = token_span(text, 10, budget)
    assert end == token_end(text, 10, budget)
    assert tokens <= budget + 1e-9
    assert abs(tokens - estimate_tokens(text[10:end])) <= max(2.0, 0.02 * tokens)
