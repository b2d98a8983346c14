"""Rule ids, severities and legal basis (from ``shared/domain/legal-basis.md``) of the cert checks.

Provisions marked [verify] there keep the mark here; none of those cited
below carries one today.
"""

from __future__ import annotations

from dataclasses import dataclass

from jingwang.records import Category, Severity


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    category: Category
    severity: Severity
    legal_basis: tuple[str, ...]


MISSING_FIELDS = Rule(
    "cert.missing_fields", Category.MISSING_CERT_FIELDS, Severity.MEDIUM,
    ("认证认可条例（2023）第24条", "认证证书和认证标志管理办法（2022）第7条"))
UNLICENSED = Rule(
    "svc.unlicensed", Category.UNLICENSED_SERVICE, Severity.HIGH,
    ("认证认可条例（2023）第9条", "认证认可条例（2023）第56条",
     "检验检测机构资质认定管理办法（2021）第37条", "电子商务法 第12条", "电子商务法 第15条"))
CREDIT_CODE = Rule(
    # A failed check is a strong signal, not proof: early pilot codes fail it too.
    "id.credit_code_check", Category.IDENTIFIER_INVALID, Severity.MEDIUM,
    ("电子商务法 第15条",))
CNCA_MALFORMED = Rule(
    "id.cnca_malformed", Category.IDENTIFIER_INVALID, Severity.HIGH,
    ("认证认可条例（2023）第70条", "认证证书和认证标志管理办法（2022）第5条"))
CNCA_BORROWED = Rule(
    "id.cnca_borrowed", Category.IDENTIFIER_INVALID, Severity.HIGH,
    ("认证认可条例（2023）第70条", "认证证书和认证标志管理办法（2022）第5条"))
CMA_BORROWED = Rule(
    "id.cma_borrowed", Category.IDENTIFIER_INVALID, Severity.HIGH,
    ("检验检测机构资质认定管理办法（2021）第37条",))
