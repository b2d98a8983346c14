"""Property tests: disguised lexicon phrases are found with exact spans; nothing breaks."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detectors.automaton import CompiledLexicon
from detectors.engine import Engine
from detectors.normalize import fast_forms, normalize, unit_text
from tests.detectors.conftest import KEYWORDS

# Phrases from the lexicon's plain phrase lists and canonical pattern forms.
_ENGINE: Engine | None = None


def engine() -> Engine:
    global _ENGINE
    if _ENGINE is None:
        from detectors.automaton import compile_lexicon
        from detectors.lexicon import load_lexicon

        _ENGINE = Engine(compile_lexicon(load_lexicon(KEYWORDS)))
    return _ENGINE


def phrases(compiled: CompiledLexicon) -> list[tuple[str, str]]:
    out = []
    for rule in compiled.rules:
        for p in rule.patterns:
            # A phrase that starts or ends with a separator (通过率100%) is found
            # without it, so its span is not the whole disguised text.
            c = p.canonical
            if p.parts == 1 and unit_text(c[0]) and unit_text(c[-1]):
                out.append((rule.entry.category, c))
    return out


SEPARATORS = [" ", "·", "/", "-", "✅", "⭐", "💯", "*", "\u200b", "\u200c", "\u200d",
              "\u200e", "\u200f", "\u2060", "\u2061", "\u2062", "\u2063", "\u2064",
              "\ufeff", "\u00ad", "\u034f", "~", "_"]
# Filler that cannot complete or negate a phrase: Latin letters, digits and
# a few neutral Han characters, with a clause break on each side of the phrase.
FILLER = st.text(alphabet="xyzXYZ#商品说明新款颜色尺寸", max_size=12)


@st.composite
def disguised(draw: st.DrawFn) -> tuple[str, str, str, str]:
    category, phrase = draw(st.sampled_from(phrases(engine().compiled)))
    out = [phrase[0]]
    for ch in phrase[1:]:
        seps = draw(st.lists(st.sampled_from(SEPARATORS), max_size=2))
        out.append("".join(seps) + ch)
    return category, phrase, draw(FILLER) + "。", "".join(out)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(disguised(), FILLER)
def test_any_disguised_phrase_is_found_with_its_exact_span(
        case: tuple[str, str, str, str], after: str) -> None:
    category, phrase, before, hidden = case
    text = before + hidden + "。" + after
    found = [m for m in engine().scan(text) if m.rule.entry.category == category]
    assert found, (phrase, text)
    assert any(m.start == len(before) and m.end == len(before) + len(hidden)
               for m in found), [(m.start, m.end, m.text) for m in found]


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=200))
def test_any_unicode_input_never_raises_and_spans_stay_in_the_field(text: str) -> None:
    for m in engine().scan(text):
        assert 0 <= m.start < m.end <= len(text)
        assert text[m.start:m.end] == m.text


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=120))
def test_fast_and_slow_normalisation_agree(text: str) -> None:
    fast = fast_forms(text)
    slow = normalize(text)
    assert (fast.text, fast.y) == (slow.text, slow.y)
    reused = normalize(text, fast)
    assert (reused.text, reused.starts, reused.ends) == (slow.text, slow.starts, slow.ends)
    for u in range(len(slow.text)):
        assert 0 <= slow.starts[u] < slow.end(u) <= len(text)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="当天出证包过确保通国家中华认证书报告免送样审核不谨防，。 ·✅\u200b"
               "dtczbaoguoDTCZ0123③④三两", max_size=60))
def test_lexicon_alphabet_soup_never_raises(text: str) -> None:
    for m in engine().scan(text):
        assert text[m.start:m.end] == m.text
        assert m.evasions == tuple(dict.fromkeys(m.evasions))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="\ue7ff0123456789٣一二x ", max_size=40))
def test_tens_spans_do_what_the_reference_regex_does(text: str) -> None:
    """The hand-written 十 scanner (a speed-up) equals the plain regex it replaced
    (in unit text 十 is the placeholder TEN until numerals become digits)."""
    from detectors.fold import TEN
    from detectors.normalize import _apply_spans, _tens_spans

    reference = re.compile(r"(\d?)" + TEN + r"(\d?)")
    expected = reference.sub(lambda m: (m.group(1) or "1") + (m.group(2) or "0"), text)
    assert _apply_spans(text, _tens_spans(text)) == expected
