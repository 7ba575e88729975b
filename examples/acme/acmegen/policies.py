"""Company policies and news items, in English and Chinese.

Policies restate the company-wide facts (returns, hotline, hours) with the answer sentences;
news items give the release-year facts a second, differently worded home in the corpus.
"""

from __future__ import annotations

from . import facts

C = facts.COMPANY_FACTS

POLICIES: dict[str, tuple[str, str]] = {
    "warranty_policy": (
        "Acme Warranty Policy\n\nEvery Acme product carries a limited warranty against defects in materials and "
        "workmanship from the date of delivery. "
        + " ".join(facts.product_answers(p)["warranty"][0] for p in facts.PRODUCTS)
        + "\n\nThe warranty does not cover damage from accidents, liquid, unauthorised repair or normal wear of "
        "consumables such as brushes, filters and pads. Keep your invoice; it is the proof of purchase.\n\n"
        f"{C['hotline'][2]} {C['hours'][2]}\n",
        "艾可保修政策\n\n艾可所有产品自签收之日起，对材料和工艺缺陷提供有限保修。"
        + "".join(facts.product_answers(p)["warranty"][1] for p in facts.PRODUCTS)
        + "\n\n因意外、进水、非授权维修造成的损坏，以及边刷、滤网、清洁布等耗材的正常磨损，不在保修范围内。"
        "请妥善保管发票，作为购买凭证。\n\n" + C["hotline"][3] + C["hours"][3] + "\n",
    ),
    "return_policy": (
        (
            f"Acme Return Policy\n\n{C['returns'][2]} Products must be complete, with all accessories and the "
            "original packaging. Refunds go back to the original payment method within 5 working days after we "
            "receive the product. Products damaged by the customer cannot be returned but may be repaired for a fee."
            f"\n\nTo start a return, open the order in the Acme Home app or call us. {C['hotline'][2]}\n"
        ),
        (
            f"艾可退货政策\n\n{C['returns'][3]}退货商品须配件齐全、包装完好。我们收到商品后5个工作日内，"
            "款项将原路退回。人为损坏的商品不支持退货，但可付费维修。\n\n"
            f"如需退货，请在艾可家居App中打开订单或致电我们。{C['hotline'][3]}\n"
        ),
    ),
    "privacy_policy": (
        (
            "Acme Privacy Notice\n\nWe collect the data needed to run your devices: account details, device status, "
            "maps made by robot vacuums and, only if you turn it on, camera recordings. Camera clips are encrypted "
            "and deleted after 30 days unless you save them. We never sell personal data. You can export or delete "
            "your data at any time under Account > Privacy in the Acme Home app.\n"
        ),
        (
            "艾可隐私声明\n\n我们仅收集设备运行所需的数据：账号信息、设备状态、扫地机器人生成的地图，以及在您开启后才会"
            "保存的摄像头录像。录像加密存储，除非您主动保存，30天后自动删除。我们绝不出售个人信息。您可以随时在"
            "艾可家居App的“账号 > 隐私”中导出或删除您的数据。\n"
        ),
    ),
    "shipping_policy": (
        (
            "Acme Shipping\n\nOrders placed before 16:00 ship the same day from our Shenzhen warehouse. Delivery "
            "takes one to three days in most cities. Shipping is free for orders above 99 yuan.\n"
        ),
        "艾可配送说明\n\n16:00前下单当天从深圳仓发货，大部分城市1至3天送达。订单满99元包邮。\n",
    ),
    "installation_service": (
        (
            "Lock Installation Service\n\nFor the L1 smart lock and the L2 Pro smart lock, a technician installs the "
            "lock at home free of charge within 48 hours of delivery in supported cities. Measure your door first; "
            "doors thinner than 40 mm need an adapter kit.\n"
        ),
        (
            "门锁上门安装服务\n\n购买L1智能门锁或L2 Pro智能门锁，在服务城市签收后48小时内可享受免费上门安装。"
            "请提前测量门厚，门厚小于40毫米需要加装转接套件。\n"
        ),
    ),
    "trade_in": (
        (
            "Trade-in Programme\n\nBring any old robot vacuum, of any brand, and get 200 yuan off a new Acme robot "
            "vacuum. The old device is recycled by a certified partner.\n"
        ),
        (
            "以旧换新活动\n\n任意品牌的旧扫地机器人均可参与以旧换新，购买艾可扫地机器人立减200元。"
            "旧设备由认证合作伙伴负责回收。\n"
        ),
    ),
    "about": (
        (
            f"About Acme Robotics\n\n{C['founded'][2]} {C['hq'][2]} We make home robots and smart home devices for "
            f"families. {C['app'][2]} {C['hotline'][2]} {C['hours'][2]}\n"
        ),
        (
            f"关于艾可机器人\n\n{C['founded'][3]}{C['hq'][3]}我们为家庭打造家用机器人和智能家居设备。"
            f"{C['app'][3]}{C['hotline'][3]}{C['hours'][3]}\n"
        ),
    ),
}


def launch_news(p: facts.Product, lang: str) -> tuple[str, str]:
    """(title, body paragraphs) of the press release that launched ``p``."""
    ans = facts.product_answers(p)
    if lang == "en":
        return (
            f"Acme launches the {p.short_en}",
            (
                f"Shenzhen, {p.year}. {ans['year'][0]} {ans['price'][0]} {ans['colour'][0]}\n\n"
                f"{ans['spec'][0]} {ans['warranty'][0]} It is available from the Acme online store and selected "
                "retailers."
            ),
        )
    return (
        f"艾可发布{p.short_zh}",
        (
            f"深圳，{p.year}年。{ans['year'][1]}{ans['price'][1]}{ans['colour'][1]}\n\n"
            f"{ans['spec'][1]}{ans['warranty'][1]}现已在艾可官方商城及部分门店销售。"
        ),
    )
