"""``identifier_invalid`` and ``unlicensed_service``: credentials that fail, are borrowed or absent.

Combination rules of the spec: a well-formed approval number that belongs to
another body counts as shown (identifier_invalid only); a malformed one counts
as none (both); a CNCA-R number missing from the registry is not invalid; a
malformed CMA or CCC number is suspicious, not invalid (no finding).
"""

from __future__ import annotations

from detectors.certs import legal
from detectors.certs.analysis import Analysis, LocatedId, SharedAnalyzer
from detectors.certs.identifiers import KIND_LABELS, IdKind
from detectors.certs.signals import Hit
from detectors.certs.textview import span_evasions
from jingwang.records import Finding, Listing

UNLICENSED_REASON = ("提供认证/检测服务，但未展示有效的认证机构批准书编号（CNCA-R）"
                     "或CMA资质认定证书编号")


def _finding(rule: legal.Rule, located: LocatedId, **detail: object) -> Finding:
    match = located.match
    return Finding(
        rule=rule.id, category=rule.category.value, field=located.field,
        start=match.start, end=match.end, text=located.text, severity=rule.severity.value,
        legal_basis=rule.legal_basis, evasions=span_evasions(located.text),
        detail={"kind": located.result.kind.value, "code": located.result.code,
                "reason": located.result.reason, **detail},
    )


def identifier_findings(analysis: Analysis) -> list[Finding]:
    """Failed check characters, malformed approval numbers and borrowed numbers."""
    findings: list[Finding] = []
    for located in analysis.ids:
        kind = located.result.kind
        if located.result.valid:
            continue
        if kind is IdKind.CREDIT_CODE:
            findings.append(_finding(legal.CREDIT_CODE, located,
                                     note="早期试点代码也可能不通过校验，需人工核实"))
        elif kind in (IdKind.CNCA_R, IdKind.CNCA_RF):
            findings.append(_finding(legal.CNCA_MALFORMED, located))
    for use in analysis.uses:
        if not use.borrowed or use.owner is None:
            continue
        rule = legal.CMA_BORROWED if use.located.result.kind is IdKind.CMA \
            else legal.CNCA_BORROWED
        label = KIND_LABELS[use.located.result.kind]
        findings.append(_finding(
            rule, use.located, owner=use.owner.name, owner_credit_code=use.owner.credit_code,
            shown_by=use.shown_by,
            reason=f"{label}{use.located.result.code}在名录中属于{use.owner.name}，"
                   f"此处由{use.shown_by}展示（涉嫌冒用资质）"))
    unique: dict[tuple[str, str, int, int], Finding] = {}
    for f in findings:
        unique.setdefault((f.rule, f.field, f.start, f.end), f)
    return list(unique.values())


def unlicensed_finding(analysis: Analysis) -> Finding | None:
    """A certification or testing service offered with no CNCA-R or CMA number shown."""
    if analysis.credential_shown:
        return None
    evidence = analysis.offer_evidence()
    if not evidence:
        return None
    best = evidence[0]
    rule = legal.UNLICENSED
    if isinstance(best, Hit):
        field, start, end, text = best.field, best.start, best.end, best.text
        signal, seen = best.signal.value, best.evasions
    else:
        field, start, end, text = best.field, best.match.start, best.match.end, best.text
        signal, seen = "malformed_approval_number", span_evasions(best.text)
    return Finding(
        rule=rule.id, category=rule.category.value, field=field, start=start, end=end,
        text=text, severity=rule.severity.value, legal_basis=rule.legal_basis,
        evasions=seen,
        detail={"signal": signal, "reason": UNLICENSED_REASON},
    )


class IdentifierDetector:
    """Flags identifiers that fail their check or that the registry gives to another body."""

    name = "cert.identifiers"

    def __init__(self, analyzer: SharedAnalyzer) -> None:
        self._analyze = analyzer

    def detect(self, listing: Listing) -> list[Finding]:
        return identifier_findings(self._analyze(listing))


class UnlicensedServiceDetector:
    """Flags certification/testing services offered without a credential."""

    name = "cert.unlicensed"

    def __init__(self, analyzer: SharedAnalyzer) -> None:
        self._analyze = analyzer

    def detect(self, listing: Listing) -> list[Finding]:
        finding = unlicensed_finding(self._analyze(listing))
        return [finding] if finding else []
