"""One pass over a listing that the certificate detectors share.

It locates identifiers and phrase signals, decides who shows each approval
or CMA number (the organisation named just before it, else the seller), and
derives the facts the combination rules of the spec turn on: is a service
offered, is a credential shown, does the seller hold one, is it a trade in
ready-made documents.
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_left
from dataclasses import dataclass, field
from functools import lru_cache

from detectors.certs.identifiers import (
    IdKind,
    IdMatch,
    IdResult,
    canonical,
    credit_code_check,
    find_identifiers,
    validate,
)
from detectors.certs.names import fold_for_mentions, mentions, name_key, org_names, same_body
from detectors.certs.registry import Entry, Registry
from detectors.certs.signals import (
    MEDICAL_CONTEXT,
    TESTING_CONTEXT,
    Hit,
    Signal,
    find_signals,
    vocabulary,
)
from detectors.certs.textview import MappedText, PhraseView, folded, phrase_view, respellings
from detectors.texts import texts_of
from jingwang.records import Listing

CREDIT_FIELD = "seller.credit_code"
LICENCE_FIELD = "seller.license_text"
_SENTENCE_END = re.compile(r"[。；;！!？?\n]")
_OFFER_SIGNALS = frozenset({Signal.OFFER, Signal.TESTING})
_PROMISE_SIGNALS = frozenset({Signal.ISSUE, Signal.PASS, Signal.NO_AUDIT})
_CLAIM_SIGNALS = frozenset({Signal.REPORT_CLAIM, Signal.CERT_CLAIM})


@dataclass(frozen=True, slots=True)
class LocatedId:
    """An identifier with the field it was found in and its validation."""

    field: str
    match: IdMatch
    result: IdResult
    text: str  # the original text of the span


@dataclass(frozen=True, slots=True)
class NumberUse:
    """An approval or CMA number, who shows it and whom the registry gives it to."""

    located: LocatedId
    shown_by: str | None  # organisation named before it, else the seller's name
    by_seller: bool
    owner: Entry | None
    named: bool = False  # an organisation is named right before the number

    @property
    def borrowed(self) -> bool:
        return (self.owner is not None and self.shown_by is not None
                and not same_body(self.owner.name, self.shown_by))


@dataclass
class Analysis:
    """Facts about one listing, computed once for all certificate detectors."""

    listing: Listing
    ids: list[LocatedId] = field(default_factory=list)
    uses: list[NumberUse] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)  # the scanned fields, by name
    # Phrase and folded views of the scanned fields, made when first asked for.
    _phrases: dict[str, PhraseView] = field(default_factory=dict, repr=False)
    _views: dict[str, MappedText] = field(default_factory=dict, repr=False)

    def phrases(self, name: str) -> PhraseView:
        """The phrase view of a scanned field."""
        view = self._phrases.get(name)
        if view is None:
            view = self._phrases[name] = phrase_view(
                self.texts[name], vocabulary(), texts_of(self.listing).normalized(name))
        return view

    def view(self, name: str) -> MappedText:
        """The folded view of a scanned field, noise dropped.

        Labels and names read as the phrases do (检ce机构, 亚环认zheng有限公司).
        """
        view = self._views.get(name)
        if view is None:
            text = self.texts[name]
            if name == LICENCE_FIELD:
                view = _licence_view(text)
            else:
                view = folded(text, drop_noise=True, respell=self.phrases(name).respellings)
            self._views[name] = view
        return view

    @property
    def views(self) -> dict[str, MappedText]:
        """The folded views of every scanned field, by name."""
        return {name: self.view(name) for name in self.texts}

    def signals(self, *kinds: Signal) -> list[Hit]:
        return [h for h in self.hits if h.signal in kinds]

    @property
    def credential_shown(self) -> bool:
        """A well-formed CNCA-R/RF or a CMA-shaped number appears (whoever it belongs to)."""
        return any(u.located.result.valid or u.located.result.kind is IdKind.CMA
                   for u in self.uses)

    @property
    def seller_credentialed(self) -> bool:
        """The seller presents itself as a certification body or a lab."""
        return any(u.by_seller for u in self.uses)

    @property
    def claims_cnca(self) -> list[NumberUse]:
        """Approval numbers (any shape) the seller shows as its own."""
        return [u for u in self.uses if u.by_seller
                and u.located.result.kind in (IdKind.CNCA_R, IdKind.CNCA_RF)]

    @property
    def trade(self) -> bool:
        return bool(self.signals(Signal.TRADE))

    def offer_evidence(self) -> list[Hit | LocatedId]:
        """Why the listing offers a certification or testing service, best first.

        A trade in ready-made documents with no 办理/代办/出具 is not a service.
        """
        offers: list[Hit | LocatedId] = list(self.signals(*_OFFER_SIGNALS))
        if not offers and self.trade:
            return []
        offers.extend(self.signals(*_PROMISE_SIGNALS))
        offers.extend(u.located for u in self.claims_cnca)
        return offers

    @property
    def is_service(self) -> bool:
        """A service, body or lab listing (or a promise only a service makes), not a product."""
        return bool(self.signals(*_OFFER_SIGNALS, *_PROMISE_SIGNALS) or self.claims_cnca) \
            or self.seller_credentialed

    def claims(self) -> list[Hit]:
        return self.signals(*_CLAIM_SIGNALS)


def _scanned_fields(listing: Listing) -> list[tuple[str, str]]:
    return [(name, text) for name, text in listing.fields() if name != "seller.name" and text]


def _named_before(view: MappedText, start: int) -> str | None:
    """The organisation named in the same sentence just before folded offset ``start``."""
    text = view.text
    sentence_start = 0
    for m in _SENTENCE_END.finditer(text, 0, start):
        sentence_start = m.end()
    names = [n for s, e, n in org_names(text[sentence_start:start])]
    return names[-1] if names else None


# The licence text comes with every listing of the shop: read once (a bounded cache).
@lru_cache(maxsize=1024)
def _licence_identifiers(text: str) -> tuple[IdMatch, ...]:
    return tuple(find_identifiers(text))


@lru_cache(maxsize=1024)
def _licence_view(text: str) -> MappedText:
    return folded(text, drop_noise=True, respell=respellings(text, vocabulary()))


def _folded_start(view: MappedText, original_start: int) -> int:
    return bisect_left(view.origin, original_start)  # origins never decrease


def analyze(listing: Listing, registry: Registry) -> Analysis:
    """Compute the shared facts for one listing."""
    result = Analysis(listing, texts=dict(_scanned_fields(listing)))
    seller = listing.seller.name
    for name, text in result.texts.items():
        for match in _licence_identifiers(text) if name == LICENCE_FIELD \
                else find_identifiers(text):
            located = LocatedId(name, match, validate(match), text[match.start:match.end])
            result.ids.append(located)
            if located.result.kind not in (IdKind.CNCA_R, IdKind.CNCA_RF, IdKind.CMA):
                continue
            view = result.view(name)
            named = _named_before(view, _folded_start(view, match.start))
            # The licence text is what the shop shows about itself.
            by_seller = name == LICENCE_FIELD or (
                named is not None and bool(seller) and same_body(named, seller))
            if located.result.kind is IdKind.CMA:
                owner = registry.lab_for(located.result.code)
            else:
                owner = registry.body_for(located.result.code) if located.result.valid else None
            result.uses.append(NumberUse(located, named, by_seller, owner, named is not None))
        if name != LICENCE_FIELD:
            result.hits.extend(find_signals(name, text, result.phrases(name)))
    if any(h.signal is Signal.TESTING for h in result.hits):
        joined = "。".join(result.phrases(name).text for name in result.texts
                          if name != LICENCE_FIELD)
        if not TESTING_CONTEXT.search(joined) or MEDICAL_CONTEXT.search(joined):
            result.hits = [h for h in result.hits if h.signal is not Signal.TESTING]
    _attribute_unnamed(result)
    credit = listing.seller.credit_code
    if credit and credit.strip():
        seller_code = _seller_credit_code(credit)
        if seller_code is not None:
            result.ids.append(seller_code)
    _forgive_named_owner(result)
    return result


_BODY_WORDS = re.compile(r"认证|检测|检验|测试|实验室|评价")


def _attribute_unnamed(result: Analysis) -> None:
    """Give a number with no organisation before it to the seller, when the seller claims it.

    It is the seller's when the listing offers a certification or testing
    service, the number is in the licence text, or the seller's name is a
    body's or lab's; a product listing citing its issuer's number without a
    name does not make the number the seller's.
    """
    seller = result.listing.seller.name
    offering = bool(result.signals(*_OFFER_SIGNALS, *_PROMISE_SIGNALS))
    kept: list[NumberUse] = []
    for use in result.uses:
        if not use.named and seller and (
                offering or use.by_seller or _BODY_WORDS.search(name_key(seller))):
            use = NumberUse(use.located, seller, True, use.owner, False)
        kept.append(use)
    result.uses = kept


@lru_cache(maxsize=1024)  # a shop's code comes with each of its listings
def _seller_credit_code(credit: str) -> LocatedId | None:
    """The seller's credit code field is a credit code whatever its shape."""
    code = re.sub(r"[\s-]+", "", canonical(credit))
    if re.fullmatch(r"\d{15}", code):
        return None  # a pre-2015 营业执照注册号, not a credit code
    check = credit_code_check(code)
    lead = len(credit) - len(credit.lstrip())
    end = len(credit.rstrip())
    match = IdMatch(IdKind.CREDIT_CODE, lead, end, code)
    return LocatedId(CREDIT_FIELD, match, IdResult(IdKind.CREDIT_CODE, check.valid,
                                                   check.reason, code), credit[lead:end])


def _forgive_named_owner(result: Analysis) -> None:
    """A number attributed only to the seller is not borrowed if the listing names its owner.

    (The seller may be the owner's agent or shop; a number written next to
    another body's name stays borrowed.)
    """
    flat: str | None = None  # every view, folded for mentions, when first needed
    # The seller's own name (华博认证 in 华博认证咨询有限公司) does not name the owner.
    seller = result.listing.seller.name
    kept: list[NumberUse] = []
    for use in result.uses:
        if use.borrowed and not use.named and use.owner is not None:
            if flat is None:
                flat = fold_for_mentions(" ".join(view.text for view in result.views.values()))
            if mentions(flat, use.owner.name) \
                    and name_key(use.owner.name) not in name_key(seller):
                use = NumberUse(use.located, use.owner.name, use.by_seller, use.owner,
                                use.named)
        kept.append(use)
    result.uses = kept


class SharedAnalyzer:
    """Analyses a listing once for several detectors (the last listing is remembered)."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._lock = threading.Lock()
        self._last: tuple[Listing, Analysis] | None = None

    def __call__(self, listing: Listing) -> Analysis:
        with self._lock:
            last = self._last
        if last is not None and last[0] is listing:
            return last[1]
        analysis = analyze(listing, self.registry)
        with self._lock:
            self._last = (listing, analysis)
        return analysis
