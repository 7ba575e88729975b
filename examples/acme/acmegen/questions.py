"""Question templates, five phrasings per fact type and language.

The first four phrasings feed the SFT set; the fifth is kept back for the held-out set,
so held-out questions are paraphrases the model never saw verbatim, with the same answer
pattern it did learn. ``{n}`` is the product's short name.
"""

from __future__ import annotations

HELDOUT_INDEX = 4

PRODUCT_Q_EN: dict[str, tuple[str, ...]] = {
    "warranty": (
        "What is the warranty period of the {n}?",
        "How long is the {n} under warranty?",
        "How many years of warranty does the {n} have?",
        "What warranty comes with the {n}?",
        "For how long is the {n} covered by warranty?",
    ),
    "price": (
        "How much does the {n} cost?",
        "What is the price of the {n}?",
        "What does the {n} sell for?",
        "How much is the {n}?",
        "What is the retail price of the {n}?",
    ),
    "weight": (
        "How much does the {n} weigh?",
        "What is the weight of the {n}?",
        "How heavy is the {n}?",
        "What does the {n} weigh?",
        "Can you tell me the weight of the {n}?",
    ),
    "year": (
        "When was the {n} released?",
        "In which year did the {n} come out?",
        "What year was the {n} launched?",
        "When did the {n} go on sale?",
        "Which year was the {n} released in?",
    ),
    "colour": (
        "What colours does the {n} come in?",
        "Which colours is the {n} available in?",
        "What colour options does the {n} have?",
        "In what colours can I buy the {n}?",
        "What are the available colours of the {n}?",
    ),
}

PRODUCT_Q_ZH: dict[str, tuple[str, ...]] = {
    "warranty": (
        "{n}的保修期是多久？",
        "{n}保修几年？",
        "{n}的质保期有多长？",
        "{n}能保修多长时间？",
        "请问{n}的保修期是几年？",
    ),
    "price": (
        "{n}多少钱？",
        "{n}的售价是多少？",
        "{n}卖多少钱？",
        "{n}的价格是多少？",
        "请问{n}的零售价是多少？",
    ),
    "weight": (
        "{n}有多重？",
        "{n}的重量是多少？",
        "{n}重多少千克？",
        "{n}的机身有多重？",
        "请问{n}的重量是多少？",
    ),
    "year": (
        "{n}是哪一年发布的？",
        "{n}什么时候发布的？",
        "{n}是哪年上市的？",
        "{n}的发布年份是哪年？",
        "请问{n}是在哪一年发布的？",
    ),
    "colour": (
        "{n}有哪些颜色？",
        "{n}有什么颜色可选？",
        "{n}提供哪几种颜色？",
        "{n}有几种配色？",
        "请问{n}有哪些颜色可以选择？",
    ),
}

SPEC_Q_EN: dict[str, tuple[str, ...]] = {
    "vacuum": (
        "How long does the {n} run on one charge?",
        "What is the battery runtime of the {n}?",
        "How many minutes can the {n} clean on a full battery?",
        "How long does the {n} last per charge?",
        "What runtime does the {n} get from a full charge?",
    ),
    "lock": (
        "How long do the batteries of the {n} last?",
        "What is the battery life of the {n}?",
        "How many months do the {n} batteries last?",
        "How often must I change the {n} batteries?",
        "How long will the batteries in the {n} last?",
    ),
    "hub": (
        "How many devices can the {n} connect?",
        "What is the maximum number of devices for the {n}?",
        "How many devices does the {n} support?",
        "Up to how many devices can join the {n}?",
        "How many smart devices can the {n} handle?",
    ),
    "camera": (
        "What resolution does the {n} record in?",
        "What is the video resolution of the {n}?",
        "In what resolution does the {n} record video?",
        "How sharp is the video of the {n}?",
        "What recording resolution does the {n} use?",
    ),
    "window": (
        "How long does the backup battery of the {n} last?",
        "What is the backup battery time of the {n}?",
        "How many minutes does the {n} backup battery last?",
        "How long can the {n} hold on after a power cut?",
        "What is the backup battery runtime of the {n}?",
    ),
    "plug": (
        "What is the maximum load of the {n}?",
        "How many watts can the {n} handle?",
        "What load does the {n} support?",
        "How much power can I draw through the {n}?",
        "What is the highest wattage the {n} supports?",
    ),
}

SPEC_Q_ZH: dict[str, tuple[str, ...]] = {
    "vacuum": (
        "{n}充满电能运行多久？",
        "{n}的续航时间是多少？",
        "{n}一次充电可以清扫多少分钟？",
        "{n}的电池能用多久？",
        "请问{n}充满电可以工作多长时间？",
    ),
    "lock": (
        "{n}的电池能用多久？",
        "{n}的电池续航是多少？",
        "{n}多久需要换一次电池？",
        "{n}的电池可以使用几个月？",
        "请问{n}的电池寿命有多长？",
    ),
    "hub": (
        "{n}最多能连接多少台设备？",
        "{n}支持连接几台设备？",
        "{n}能接入多少设备？",
        "{n}的设备连接上限是多少？",
        "请问{n}可以连接多少台智能设备？",
    ),
    "camera": (
        "{n}的录像分辨率是多少？",
        "{n}录像是什么分辨率？",
        "{n}的视频清晰度是多少？",
        "{n}支持什么录像分辨率？",
        "请问{n}拍摄视频的分辨率是多少？",
    ),
    "window": (
        "{n}的备用电池能续航多久？",
        "{n}断电后能坚持多长时间？",
        "{n}的备用电池续航是多少？",
        "{n}的备用电池可以用几分钟？",
        "请问{n}的备用电池能用多少分钟？",
    ),
    "plug": (
        "{n}的最大负载是多少？",
        "{n}最大支持多少瓦？",
        "{n}能承受多大功率？",
        "{n}的功率上限是多少？",
        "请问{n}最多可以带多少瓦的电器？",
    ),
}

COMPANY_Q_EN: dict[str, tuple[str, ...]] = {
    "hotline": (
        "What is the Acme customer service hotline?",
        "What number do I call for Acme support?",
        "What is Acme's support phone number?",
        "How can I reach Acme customer service by phone?",
        "Which hotline should I call to contact Acme?",
    ),
    "returns": (
        "How many days do I have to return an Acme product?",
        "What is Acme's return window?",
        "Within how many days can I return an Acme order?",
        "How long does Acme accept returns?",
        "How many days after delivery can I send an Acme product back?",
    ),
    "hours": (
        "When is Acme customer service open?",
        "What are Acme's customer service hours?",
        "What time does Acme support open and close?",
        "During which hours can I contact Acme support?",
        "What are the opening hours of Acme customer service?",
    ),
    "founded": (
        "When was Acme Robotics founded?",
        "In which year was Acme Robotics established?",
        "What year did Acme Robotics start?",
        "How old is Acme Robotics; when was it founded?",
        "Which year was Acme Robotics set up?",
    ),
    "hq": (
        "Where is Acme Robotics headquartered?",
        "Where is the head office of Acme Robotics?",
        "In which city is Acme Robotics based?",
        "Where are Acme Robotics' headquarters?",
        "Which city is Acme Robotics' headquarters in?",
    ),
    "app": (
        "Which app controls Acme products?",
        "What app do I use for my Acme devices?",
        "What is the name of the Acme control app?",
        "Which app should I install for Acme products?",
        "What app is used to control Acme devices?",
    ),
}

COMPANY_Q_ZH: dict[str, tuple[str, ...]] = {
    "hotline": (
        "艾可的客服热线是多少？",
        "艾可客服电话是多少？",
        "怎么打电话联系艾可客服？",
        "艾可的售后电话是什么？",
        "请问艾可的客服热线号码是多少？",
    ),
    "returns": (
        "艾可的产品几天内可以退货？",
        "艾可的退货期限是多久？",
        "艾可支持多少天退货？",
        "买了艾可的产品多久内能退？",
        "请问艾可签收后多少天内可以退货？",
    ),
    "hours": (
        "艾可客服的服务时间是几点到几点？",
        "艾可客服什么时候上班？",
        "艾可客服的工作时间是什么？",
        "几点可以联系艾可客服？",
        "请问艾可客服的营业时间是多少？",
    ),
    "founded": (
        "艾可机器人是哪一年成立的？",
        "艾可机器人成立于哪年？",
        "艾可机器人是什么时候创办的？",
        "艾可机器人的成立时间是哪一年？",
        "请问艾可机器人是在哪一年成立的？",
    ),
    "hq": (
        "艾可机器人的总部在哪里？",
        "艾可机器人总部设在哪个城市？",
        "艾可机器人的总部位于哪里？",
        "艾可机器人的总公司在哪？",
        "请问艾可机器人的总部在哪个城市？",
    ),
    "app": (
        "艾可产品用什么App控制？",
        "艾可的设备需要装哪个App？",
        "控制艾可产品的App叫什么？",
        "艾可产品配套的App是什么？",
        "请问艾可设备用哪个App来控制？",
    ),
}
