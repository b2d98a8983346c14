"""Phrase banks: the violating phrases of the detection spec, and the hard negatives.

Violating phrases are written here in their plain form; listings disguise them
with :mod:`sandbox.evasions`. ``{n}`` in a phrase is a number of days (1–7).
"""

from __future__ import annotations

# fake_certificate: the 当天出证 family, offered as part of a certification service.
FAKE_CERT_SERVICE = (
    "当天出证", "直接出证", "直出证书", "不用审核", "免审核", "免现场审核", "不到现场",
    "只出证书", "无需审查", "只需营业执照照片", "立等拿证", "当天拿证",
)
# fake_certificate, for test-report services.
FAKE_REPORT_SERVICE = (
    "当天出报告", "当天出检测报告", "不送样检测", "免送样", "无需寄样", "次日出具报告",
    "代出报告",
)
# fake_certificate alone: trading ready-made documents (no 办理/代办/出具).
FAKE_SALE = ("出售检测报告", "转让检测报告", "出售证书", "转让证书", "现成报告", "报告可改")

# false_advertising for certification services.
FALSE_CERT = (
    "认证包过", "包过", "包通过", "确保通过", "保证通过", "100%通过", "不过全额退款", "出证快",
    "拿证快", "快速出证", "极速拿证", "{n}天拿证", "{n}天出证", "{n}天下证", "最快{n}天出证",
    "快捷认证", "加急认证",
    "加急出证", "权威认证", "招标必备认证", "投标必备证书",
)
# false_advertising for testing services.
FALSE_REPORT = ("检测包过", "包过", "包通过", "保证通过", "不过全额退款", "急速出报告",
                "{n}天出报告")

# national_prefix_misuse, offered as certifications (so also a service).
NATIONAL_SERVICE = (
    "国家AAA级信用企业认证", "全国重合同守信用企业认证", "中华诚信经营示范单位认证",
    "国家级绿色环保认证", "全国质量信得过单位证书", "中国优秀诚信企业证书",
    "全国售后服务五星级认证",
)
# national_prefix_misuse, claimed by a product.
NATIONAL_PRODUCT = (
    "全国质量信得过产品证书", "中华名优产品认证证书", "国家级绿色环保认证",
    "中国消费者信赖品牌证书", "全国产品质量放心品牌证书", "国家AAA级质量信誉产品证书",
)
# missing_cert_fields: a product claims a certificate or report and shows none of its fields.
MISSING_CLAIMS = (
    "质检报告齐全", "检测报告齐全", "证书齐全", "已通过检测，有报告", "有质检报告",
    "已获3C认证", "通过CCC认证", "附检测报告", "各项检测报告都有",
)

# Warnings and negations: they quote banned phrases and must stay clean.
NEGATIONS = (
    "谨防“当天出证”骗局，认证须经审核。",
    "本店拒绝包过承诺，结果以审核为准。",
    "认证需现场审核，不承诺当天出证。",
    "检测须寄送样品，不承诺当天出报告。",
    "不提供“免审核”“包过”等违规服务，请勿轻信此类宣传。",
    "凡声称“当天出证”的均为虚假宣传，请勿轻信。",
    "本机构不出售、不转让任何证书或报告。",
)

# Everyday look-alikes of banned phrases, not about certification.
LOOKALIKES = (
    "下单当天发货。", "确保质量，七天无理由退换。", "快速发货，破损包赔。",
    "曾获权威媒体报道，老顾客回购多。", "24小时内发货，全国包邮。", "保证正品，假一赔十。",
    "售后无忧，极速退款。", "现货当天发货，下午四点前付款当天发出。",
)
