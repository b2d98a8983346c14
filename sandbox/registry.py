"""The 34 certification bodies of the campaign's 附件3, copied so the sandbox runs offline.

Shops named after these bodies show their own approval numbers (genuine); other shops
show them as borrowed numbers (``identifier_invalid``). Addresses are left out: no page
needs them.
"""

from __future__ import annotations

from typing import NamedTuple


class RegistryBody(NamedTuple):
    approval_no: str
    name: str
    credit_code: str
    region: str


REGISTRY: tuple[RegistryBody, ...] = (
    RegistryBody("CNCA-R-2021-775", "亚环认证(合肥)有限公司", "91510100MA66F7047N",
                 "安徽省合肥市肥西县"),
    RegistryBody("CNCA-R-2021-915", "安徽华启云认证有限公司", "91650100MA77XEN00Q",
                 "安徽省合肥经济技术开发区"),
    RegistryBody("CNCA-R-2022-1096", "硕盟认证服务有限公司", "91220104MA7G6LGF95",
                 "安徽省合肥市肥西县"),
    RegistryBody("CNCA-R-2023-1245", "安徽中驰国盛认证有限公司", "91340123MA8PQ9WJXX",
                 "安徽省合肥市肥西县"),
    RegistryBody("CNCA-R-2023-1288", "安徽众盈认证有限公司", "91340104MA2WP2RE8L",
                 "安徽省合肥经济技术开发区"),
    RegistryBody("CNCA-R-2021-751", "安徽科博产品检测研究院有限公司", "91340100MA2MWXNG21",
                 "安徽省合肥高新技术产业开发区"),
    RegistryBody("CNCA-R-2021-773", "艾克斯认证有限公司", "91340100MA2UDG4B8M",
                 "安徽省合肥市庐阳区"),
    RegistryBody("CNCA-R-2021-819", "安徽国泰众信检测技术有限公司", "91340100082229609X",
                 "安徽省合肥市包河区"),
    RegistryBody("CNCA-R-2021-847", "安徽聚乾认证有限公司", "91340100MA2UFXN14J",
                 "安徽省合肥市蜀山区"),
    RegistryBody("CNCA-R-2021-904", "安徽省质量认证服务中心", "12340000719961435W",
                 "安徽省合肥市包河区"),
    RegistryBody("CNCA-R-2022-959", "绿帆鸿燕国际认证有限公司", "91340111MA2W92UPX2",
                 "安徽省合肥经济技术开发区"),
    RegistryBody("CNCA-R-2022-972", "赛玛认证服务有限公司", "91340121MA8N40UL7T",
                 "安徽省合肥市长丰县"),
    RegistryBody("CNCA-R-2022-992", "凯维认证有限公司", "91340100MA8NDC428P",
                 "安徽省合肥市包河区"),
    RegistryBody("CNCA-R-2022-995", "安徽省建设工程测试研究院有限责任公司", "91340000784932702U",
                 "安徽省合肥市包河区"),
    RegistryBody("CNCA-R-2022-997", "安徽三标认证服务有限公司", "91340100MA2WULCW9K",
                 "安徽省合肥高新技术产业开发区"),
    RegistryBody("CNCA-R-2022-1040", "欧卡斯认证有限公司", "91340100MA8NAMJ672",
                 "安徽省合肥市蜀山区"),
    RegistryBody("CNCA-R-2022-1084", "安徽中科赋能认证有限公司", "91340111MA8NF7XB3Q",
                 "安徽省合肥经济技术开发区"),
    RegistryBody("CNCA-R-2022-1087", "通鉴认证中心有限公司", "91330109MA2J1N2N7P",
                 "安徽省合肥经济技术开发区"),
    RegistryBody("CNCA-R-2022-1108", "中绍宣检测认证有限公司", "91340100MA8N9CFT7W",
                 "安徽省合肥高新技术产业开发区"),
    RegistryBody("CNCA-R-2022-1116", "华博认证有限公司", "91340100MA8NQP6B08",
                 "安徽省合肥高新技术产业开发区"),
    RegistryBody("CNCA-R-2022-1126", "朗迪认证检测有限公司", "91340100MA8P38J38G",
                 "安徽省合肥市蜀山区"),
    RegistryBody("CNCA-R-2022-1148", "顶诚世纪认证(安徽)有限公司", "91340100MA8PJDC0XL",
                 "安徽省合肥高新技术产业开发区"),
    RegistryBody("CNCA-R-2022-1163", "安徽众认认证有限公司", "91321081MAC1LT1F2Q",
                 "安徽省合肥高新技术产业开发区"),
    RegistryBody("CNCA-R-2023-1166", "中撷国际认证集团有限公司", "91340100MA2WAG374T",
                 "安徽省合肥市瑶海区"),
    RegistryBody("CNCA-R-2023-1190", "安徽中标认证有限公司", "91340100MA2NR1TE0G",
                 "安徽省合肥市蜀山区"),
    RegistryBody("CNCA-R-2023-1206", "安徽东易认证有限公司", "91340100MA8MYCTA6P",
                 "安徽省合肥高新技术产业开发区"),
    RegistryBody("CNCA-R-2023-1209", "启智信认证有限公司", "91340100MA8PDXWF15",
                 "安徽省合肥市包河区"),
    RegistryBody("CNCA-R-2023-1219", "恒晟认证有限公司", "91340123MA8P9URW97",
                 "安徽省合肥市肥西县"),
    RegistryBody("CNCA-R-2023-1237", "安徽中检国盛认证服务有限公司", "91340104MA8MYXN700",
                 "安徽省合肥市蜀山区"),
    RegistryBody("CNCA-R-2023-1240", "航纬认证有限公司", "91340100MA8PE4FR8E",
                 "安徽省合肥市蜀山区"),
    RegistryBody("CNCA-R-2023-1249", "安徽瑞测检测科技有限公司", "91340103MA2TQ7LP6K",
                 "安徽省合肥市瑶海区"),
    RegistryBody("CNCA-R-2023-1260", "旭润凯达(安徽)认证有限公司", "91340122MA8PWA3A7B",
                 "安徽省合肥市肥东县"),
    RegistryBody("CNCA-R-2023-1264", "荣联认证(安徽)有限公司", "91340104MA8PWTPA9L",
                 "安徽省合肥市蜀山区"),
    RegistryBody("CNCA-R-2023-1273", "安欣认证有限公司", "91340100MA8Q95PP17",
                 "安徽省合肥高新技术产业开发区"),
)
