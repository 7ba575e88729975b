"""Hand-written prose per product category, in English and Chinese.

Documents are assembled from these passages plus the fact tables; keeping the prose here
lets the renderers stay short and makes the corpus read like a real knowledge base.
"""

from __future__ import annotations

BLURB = {
    "vacuum": (
        (
            "{n} maps your home with a laser sensor, plans tidy rows and returns to its dock by itself "
            "when the battery runs low. It handles hard floors and short carpets and keeps a separate map "
            "for each storey."
        ),
        (
            "{n}通过激光雷达绘制家庭地图，按规划路线逐行清扫，电量不足时自动回充。适用于硬质地板和短毛地毯，"
            "并可为每一层楼分别保存地图。"
        ),
    ),
    "lock": (
        (
            "{n} opens with a fingerprint, a PIN code, an NFC card or the mechanical key, and records "
            "every entry in the app. Temporary codes can be shared with guests and expire on their own."
        ),
        (
            "{n}支持指纹、密码、NFC门卡和机械钥匙四种开锁方式，每次开门都会记录在App中。"
            "还可以给访客分享临时密码，到期自动失效。"
        ),
    ),
    "hub": (
        (
            "{n} is the bridge between the Acme Home app and your Zigbee and Bluetooth devices. Automations "
            "keep running on the hub even when the internet is down."
        ),
        "{n}连接艾可家居App与家中的Zigbee和蓝牙设备。即使断网，已设置的自动化场景也会在中枢本地继续运行。",
    ),
    "camera": (
        (
            "{n} watches your entrance day and night, detects people and sends an alert to your phone. "
            "Clips are stored on a microSD card or in Acme Cloud."
        ),
        "{n}全天候守护家门，能识别人形并向手机推送提醒。录像可保存在microSD卡或艾可云存储中。",
    ),
    "window": (
        (
            "{n} climbs glass with a vacuum pump, cleans in a Z pattern and stops at the frame edges. "
            "A safety rope and a backup battery keep it in place if the power fails."
        ),
        "{n}依靠真空吸附在玻璃上移动，按Z字路线清洁，遇到窗框自动转向。安全绳和备用电池可在断电时防止跌落。",
    ),
    "plug": (
        (
            "{n} switches any appliance from the app, on a timer or by voice, and measures how much energy "
            "it uses every day."
        ),
        "{n}可以通过App、定时或语音控制任意电器的开关，并统计每天的用电量。",
    ),
}

BOX = {
    "vacuum": (
        ("robot", "charging dock", "side brush x2", "filter", "power cable"),
        ("主机", "充电座", "边刷x2", "滤网", "电源线"),
    ),
    "lock": (
        ("front panel", "back panel", "mortise", "mechanical keys x2", "NFC cards x2", "screws"),
        ("前面板", "后面板", "锁体", "机械钥匙x2", "NFC门卡x2", "安装螺丝"),
    ),
    "hub": (("hub", "USB-C cable", "power adapter"), ("中枢主机", "USB-C数据线", "电源适配器")),
    "camera": (
        ("camera", "wall mount", "power adapter", "screws"),
        ("摄像头", "壁挂支架", "电源适配器", "安装螺丝"),
    ),
    "window": (
        ("robot", "safety rope", "cleaning pads x4", "power adapter", "remote control"),
        ("主机", "安全绳", "清洁布x4", "电源适配器", "遥控器"),
    ),
    "plug": (("smart plug", "quick guide"), ("智能插座", "快速指南")),
}

SETUP = {
    "vacuum": (
        (
            "Place the dock against a wall with 0.5 m of free space on each side.",
            "Switch the robot on and let it charge fully before the first run.",
            "Add the robot in the Acme Home app and let it map the home.",
        ),
        (
            "将充电座靠墙放置，左右各留出0.5米空间。",
            "打开机器人电源，首次使用前请充满电。",
            "在艾可家居App中添加设备，让机器人完成建图。",
        ),
    ),
    "lock": (
        (
            "Check that the door thickness is between 40 and 120 mm.",
            "Fit the mortise, then the front and back panels, and insert four AA batteries.",
            "Register an administrator fingerprint, then add the lock in the Acme Home app.",
        ),
        (
            "确认门厚在40至120毫米之间。",
            "先安装锁体，再安装前后面板，并装入四节5号电池。",
            "录入管理员指纹，然后在艾可家居App中添加门锁。",
        ),
    ),
    "hub": (
        (
            "Plug the hub into power near the centre of your home.",
            "Connect it to 2.4 GHz Wi-Fi or Ethernet through the Acme Home app.",
            "Put each sub-device into pairing mode and tap Add Device.",
        ),
        (
            "将中枢接通电源，尽量放在房屋中央。",
            "通过艾可家居App连接2.4GHz Wi-Fi或网线。",
            "让子设备进入配对模式，然后点击“添加设备”。",
        ),
    ),
    "camera": (
        (
            "Mount the camera 2 to 3 metres high, pointing at the entrance.",
            "Insert a microSD card of up to 256 GB if you want local recording.",
            "Scan the QR code in the Acme Home app to connect it to Wi-Fi.",
        ),
        (
            "将摄像头安装在2至3米高处，对准入口。",
            "如需本地录像，请插入不超过256GB的microSD卡。",
            "在艾可家居App中扫描二维码，将摄像头连接到Wi-Fi。",
        ),
    ),
    "window": (
        (
            "Tie the safety rope to a fixed indoor point before every use.",
            "Attach clean pads and switch the robot on while holding it on the glass.",
            "Press start on the remote; the robot returns to where it started.",
        ),
        (
            "每次使用前先将安全绳固定在室内牢固处。",
            "装好清洁布，把机器人贴在玻璃上再开机。",
            "按下遥控器上的开始键，清洁结束后机器人会回到起点。",
        ),
    ),
    "plug": (
        (
            "Plug it into a wall socket and wait until the light blinks blue.",
            "Add it in the Acme Home app on 2.4 GHz Wi-Fi.",
            "Name the plug after the appliance it controls.",
        ),
        (
            "插入墙壁插座，等待指示灯蓝色闪烁。",
            "在艾可家居App中通过2.4GHz Wi-Fi添加设备。",
            "按所控制的电器为插座命名。",
        ),
    ),
}

CARE = {
    "vacuum": (
        (
            "Empty the dust bin after every run, rinse the filter every two weeks and replace the side "
            "brushes every three to six months."
        ),
        "每次清扫后倒空尘盒，每两周清洗一次滤网，边刷建议三到六个月更换一次。",
    ),
    "lock": (
        (
            "Wipe the fingerprint sensor with a dry cloth. When the low-battery tone sounds, replace all "
            "four batteries at once."
        ),
        "用干布擦拭指纹识别区。听到低电量提示音后，请一次性更换全部四节电池。",
    ),
    "hub": (
        "Keep the hub away from microwaves and metal cabinets, which weaken the radio signal.",
        "请让中枢远离微波炉和金属柜，以免削弱无线信号。",
    ),
    "camera": (
        "Clean the lens with a soft cloth and format the microSD card every few months.",
        "用软布清洁镜头，每隔几个月格式化一次microSD卡。",
    ),
    "window": (
        "Wash the pads at 40 °C or below and check the safety rope for wear before each use.",
        "清洁布请用40°C以下的水清洗，每次使用前检查安全绳是否磨损。",
    ),
    "plug": (
        "Do not use the plug in bathrooms or outdoors, and never chain several plugs together.",
        "请勿在浴室或户外使用，也不要将多个插座串联使用。",
    ),
}

# Troubleshooting articles: (title, body) pairs in English and Chinese.
ISSUES = {
    "vacuum": (
        (
            (
                "The robot does not return to the dock",
                (
                    "Clean the charging contacts and make sure the dock is "
                    "not in a corner. Remove shiny objects near the dock; they confuse the sensor."
                ),
            ),
            (
                "机器人无法回充",
                "请清洁充电触点，确认充电座没有放在墙角。移除充电座附近的反光物体，它们会干扰传感器。",
            ),
        ),
        (
            (
                "The map is wrong after moving furniture",
                "Start a new mapping run from the app. Old maps can be deleted under Map Management.",
            ),
            ("移动家具后地图不准确", "请在App中重新建图，旧地图可以在“地图管理”中删除。"),
        ),
        (
            ("Suction is weak", "Empty the dust bin, rinse the filter and let it dry for 24 hours."),
            ("吸力变弱", "请倒空尘盒，清洗滤网并晾干24小时。"),
        ),
    ),
    "lock": (
        (
            (
                "A fingerprint is not recognised",
                "Clean the sensor and register the same finger again from two or three angles.",
            ),
            ("指纹无法识别", "请清洁识别区，并从两三个角度重新录入同一手指。"),
        ),
        (
            (
                "The lock beeps and shows low battery",
                (
                    "Replace all four AA batteries. In an emergency, power the "
                    "lock through the USB-C port under the front panel."
                ),
            ),
            ("门锁提示电量低", "请更换全部四节5号电池。紧急情况下可通过前面板下方的USB-C接口临时供电。"),
        ),
        (
            (
                "The app shows the lock offline",
                "Check that the home hub is powered and within 10 metres of the door.",
            ),
            ("App显示门锁离线", "请确认智能中枢已通电，且距离门锁不超过10米。"),
        ),
    ),
    "hub": (
        (
            ("Sub-devices drop offline", "Move the hub closer or add a mains-powered device as a repeater."),
            ("子设备频繁离线", "请把中枢移近，或增加一台插电设备作为中继。"),
        ),
        (
            (
                "The hub cannot join Wi-Fi",
                "The hub only supports 2.4 GHz networks; check the band and password.",
            ),
            ("中枢无法连接Wi-Fi", "中枢仅支持2.4GHz网络，请检查频段和密码。"),
        ),
        (
            ("Automations run late", "Update the hub firmware and check that its clock is synchronised."),
            ("自动化场景执行延迟", "请升级中枢固件，并检查时间是否同步。"),
        ),
    ),
    "camera": (
        (
            ("Night vision is blurry", "Remove the protective film and keep the lens clear of cobwebs."),
            ("夜视画面模糊", "请撕掉镜头保护膜，并清除镜头附近的蜘蛛网。"),
        ),
        (
            ("Too many motion alerts", "Lower the sensitivity or turn on person detection only."),
            ("移动提醒过多", "请降低灵敏度，或只开启人形检测。"),
        ),
        (
            (
                "The memory card is not detected",
                "Format the card in the app; cards above 256 GB are not supported.",
            ),
            ("无法识别存储卡", "请在App中格式化存储卡，不支持256GB以上的卡。"),
        ),
    ),
    "window": (
        (
            ("The robot slides on the glass", "Replace worn pads and check that the pump is not blocked."),
            ("机器人在玻璃上打滑", "请更换磨损的清洁布，并检查吸气口是否堵塞。"),
        ),
        (
            (
                "The robot alarms during cleaning",
                "The alarm means power was lost; keep the rope tied and take the robot down.",
            ),
            ("清洁过程中报警", "报警说明断电了，请保持安全绳固定并取下机器人。"),
        ),
        (
            ("Streaks remain on the window", "Spray less water and use a dry pad for a second pass."),
            ("玻璃上留下水痕", "请减少喷水量，并用干布再擦一遍。"),
        ),
    ),
    "plug": (
        (
            (
                "The plug does not switch",
                "Check that the appliance's own switch is on and the load is below the limit.",
            ),
            ("插座无法控制开关", "请确认电器自身开关已打开，且功率未超过上限。"),
        ),
        (
            ("Energy readings look wrong", "Reset the statistics in the app after the first full day."),
            ("用电量统计不准确", "请在使用满一天后，在App中重置统计数据。"),
        ),
        (
            (
                "The light keeps blinking red",
                "The plug lost Wi-Fi; move the router closer or re-add the plug.",
            ),
            ("指示灯一直红灯闪烁", "插座已断开Wi-Fi，请靠近路由器或重新添加设备。"),
        ),
    ),
}

FIRMWARE_NOTES = (
    ("Improved connection stability on crowded Wi-Fi networks.", "提升了在拥挤Wi-Fi环境下的连接稳定性。"),
    (
        "Fixed a rare crash when the app was opened during an update.",
        "修复了升级过程中打开App偶发崩溃的问题。",
    ),
    ("Lower standby power consumption.", "降低了待机功耗。"),
    ("New voice prompts in Cantonese.", "新增粤语语音提示。"),
    ("Faster response to commands from the home hub.", "加快了对智能中枢指令的响应速度。"),
    ("Security patch for the local network service.", "修复了本地网络服务的安全漏洞。"),
    ("Better battery level reporting.", "电量显示更加准确。"),
    ("Support for daylight-saving time in schedules.", "定时任务支持夏令时。"),
)
