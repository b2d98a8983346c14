"""The text fields of one listing, each normalised once for every detector of the suite.

The lexicon engine scans all fields as one text and the certificate checks read
each field on its own; both start from the same per-field normalisation (the
engine puts its joined text together from it with
:func:`detectors.normalize.join_lines` instead of normalising it again). The
detectors of a suite run one after another over the same listing, so the texts
of the last listing are remembered.
"""

from __future__ import annotations

import threading
from functools import lru_cache

from detectors.normalize import Normalized, normalize
from jingwang.records import Listing


class ListingTexts:
    """A listing's non-empty text fields and their normalisation, made when first asked for."""

    def __init__(self, listing: Listing) -> None:
        self.listing = listing
        self.fields = [(name, text) for name, text in listing.fields() if text]
        self._texts = dict(self.fields)
        self._normalized: dict[str, Normalized] = {}

    def normalized(self, name: str) -> Normalized:
        """The normalisation of field ``name`` (one of :attr:`fields`)."""
        n = self._normalized.get(name)
        if n is None:
            text = self._texts[name]
            n = self._normalized[name] = _shop_text(text) if name in SHOP_FIELDS \
                else normalize(text)
        return n


# The seller's name and licence come with every listing of the shop: they are read
# once (a bounded cache; the listing's own fields seldom repeat).
SHOP_FIELDS = frozenset({"seller.name", "seller.license_text"})


@lru_cache(maxsize=2048)
def _shop_text(text: str) -> Normalized:
    return normalize(text)


_lock = threading.Lock()
_last: ListingTexts | None = None


def texts_of(listing: Listing) -> ListingTexts:
    """The texts of ``listing``, shared with the detector that read it just before."""
    global _last
    with _lock:
        last = _last
    if last is not None and last.listing is listing:
        return last
    texts = ListingTexts(listing)
    with _lock:
        _last = texts
    return texts
