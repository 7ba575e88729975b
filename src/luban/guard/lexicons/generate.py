"""Build the Appendix A keyword library (`tc260_zh.tsv`, `tc260_en.tsv`) from seed lists.

`python -m luban.guard.lexicons.generate` rewrites both files. The seeds are real terms per risk of
TC260-003 Appendix A (drug, weapon and scam names, hate groups, the groups that discrimination targets);
terms are composed the way harmful requests and offers are written: an intent or trade verb with its
object ("出售冰毒", "how to make a pipe bomb"), a derogatory generalisation about a group ("河南人都是骗子",
"women are too stupid to lead"), an incitement with its target. The composed phrases carry risk `high`
(the default policy blocks them); the bare topic words carry `medium` (flagged, never blocked alone), so
that a question about the history of a drug, a war or a scam still gets its answer.
Slugs map to Appendix A codes in `luban.guard.categories`.
"""

from __future__ import annotations

from itertools import product
from pathlib import Path

HERE = Path(__file__).resolve().parent
Row = tuple[str, str, str]

# -- seeds: Chinese -------------------------------------------------------------------------------------
ZH_DRUGS = ["冰毒", "海洛因", "摇头丸", "K粉", "氯胺酮", "大麻", "可卡因", "鸦片", "吗啡", "芬太尼", "麻古", "神仙水",
            "LSD", "致幻蘑菇", "甲卡西酮", "浴盐", "笑气", "γ-羟基丁酸", "三唑仑", "迷奸药", "听话水", "上头电子烟",
            "合成大麻素", "依托咪酯", "曲马多", "安眠酮", "麻黄碱", "罂粟壳", "杜冷丁", "美沙酮", "阿片", "古柯叶",
            "奶茶粉", "彩虹烟", "跳跳糖毒品", "咔哇潮饮", "土豆粉毒品", "蓝精灵药丸", "氟胺酮", "恰特草"]
ZH_DRUG_PATTERNS = ["出售{}", "购买{}", "买{}", "卖{}", "批发{}", "代购{}", "{}货源", "{}哪里买", "哪里能买到{}",
                    "怎么制作{}", "如何制作{}", "自制{}", "合成{}", "提炼{}", "{}配方", "{}制作方法", "邮寄{}",
                    "{}渠道", "{}价格多少", "{}上家"]
ZH_WEAPONS = ["枪支", "手枪", "步枪", "猎枪", "气枪", "仿真枪", "钢珠枪", "火药枪", "狙击枪", "冲锋枪", "霰弹枪",
              "弓弩", "麻醉枪", "电击枪", "消音器", "子弹", "枪管", "撞针", "管制刀具", "军刺", "手雷", "雷管",
              "黑火药", "炸药", "TNT", "土炸弹", "燃烧瓶", "汽油弹", "钢珠弹", "枪械配件"]
ZH_WEAPON_PATTERNS = ["出售{}", "购买{}", "买卖{}", "{}出售", "{}货源", "{}哪里买", "网购{}", "自制{}",
                      "怎么制作{}", "如何制作{}", "{}制作教程", "{}图纸", "3D打印{}", "改装{}"]
ZH_VIOLENCE_VERBS = ["杀死", "杀掉", "弄死", "毒死", "砍死", "捅死", "掐死", "打死", "烧死", "勒死", "绑架", "拐卖",
                     "肢解", "虐待", "报复"]
ZH_VIOLENCE_TARGETS = ["人", "一个人", "老婆", "老公", "丈夫", "妻子", "前女友", "前男友", "同事", "老板", "领导",
                       "老师", "同学", "邻居", "孩子", "小孩", "父母", "仇人", "警察", "路人"]
ZH_VIOLENCE_PATTERNS = ["怎么{}{}", "如何{}{}", "教我{}{}", "想{}{}", "{}{}的方法", "{}{}不被发现"]
ZH_SELF_HARM = ["自杀", "割腕", "上吊", "跳楼", "服毒", "烧炭", "吃安眠药自杀", "结束生命", "自残", "轻生"]
ZH_SELF_HARM_PATTERNS = ["怎么{}", "如何{}", "{}的方法", "{}最不痛苦", "{}教程", "想{}", "教我{}", "{}需要吃多少"]
ZH_TERROR_GROUPS = ["伊斯兰国", "ISIS", "基地组织", "东伊运", "东突", "塔利班", "博科圣地", "青年党", "哈马斯武装",
                    "真主党武装", "东突厥斯坦伊斯兰运动", "世维会", "圣战组织", "极端组织", "恐怖组织", "奥姆真理教"]
ZH_TERROR_PATTERNS = ["加入{}", "投奔{}", "支持{}", "宣传{}", "资助{}", "效忠{}", "为{}招募", "{}招募", "联系{}",
                      "{}的宣传视频"]
ZH_ATTACKS = ["恐怖袭击", "爆炸袭击", "自杀式袭击", "汽车炸弹袭击", "人体炸弹", "暴恐袭击", "投毒袭击", "劫持飞机",
              "砍杀路人", "校园枪击", "纵火袭击", "无差别杀人"]
ZH_ATTACK_PATTERNS = ["策划{}", "发动{}", "实施{}", "组织{}", "如何{}", "怎么{}", "{}计划", "{}教程"]
ZH_SUBVERSION = ["颠覆国家政权", "推翻政府", "推翻共产党", "推翻社会主义制度", "武装暴动", "武装夺权", "发动政变",
                 "暴力革命", "组织暴乱", "街头暴乱", "冲击政府机关", "推翻现政权"]
ZH_INCITE = ["煽动", "策划", "组织", "号召", "鼓动", "串联", "宣扬", "呼吁"]
ZH_SEPARATISM = ["台独", "藏独", "疆独", "港独", "蒙独", "东突独立", "西藏独立", "新疆独立", "台湾独立", "香港独立",
                 "分裂国家", "国家分裂"]
ZH_SEP_PATTERNS = ["支持{}", "宣扬{}", "鼓吹{}", "推动{}", "煽动{}", "号召{}", "{}万岁", "为{}募捐", "{}游行"]
ZH_NATSEC = ["国家机密", "国家秘密", "军事机密", "军事情报", "涉密文件", "情报", "军工资料", "国家绝密文件"]
ZH_NATSEC_PATTERNS = ["出卖{}", "出售{}", "泄露{}", "窃取{}", "向境外提供{}", "偷拍{}", "倒卖{}", "{}卖给境外"]
ZH_NATSEC_EXTRA = ["为境外间谍工作", "给境外间谍提供情报", "拍摄军事基地卖给境外", "充当境外间谍", "策反军人",
                   "招募间谍", "叛逃境外", "投敌叛国", "里通外国"]
ZH_ETHNIC = ["汉族", "藏族", "维吾尔族", "回族", "蒙古族", "壮族", "苗族", "彝族", "满族", "朝鲜族", "哈萨克族",
             "土家族", "侗族", "瑶族", "白族", "黎族", "傣族", "畲族", "傈僳族", "东乡族", "汉人", "藏人", "维族人",
             "回民", "蒙古人", "少数民族"]
ZH_HATRED = ["消灭{}", "屠杀{}", "杀光{}", "驱逐{}", "{}滚出中国", "{}都该死", "灭绝{}", "清洗{}", "把{}都驱逐",
             "把{}赶出去", "把{}都杀了", "{}应该被灭绝", "{}应该被消灭", "{}应该被驱逐", "仇恨{}", "{}都应该去死",
             "{}是劣等民族"]
ZH_DISCRIM = ["都是小偷", "都是骗子", "素质低", "素质太低", "都是垃圾", "没一个好东西", "不配当人", "低人一等",
              "都是野蛮人", "就是劣等", "不招", "滚出去"]
ZH_RELIGIONS = ["穆斯林", "伊斯兰教徒", "基督徒", "天主教徒", "佛教徒", "道教徒", "犹太人", "信教的人", "回教徒"]
ZH_RELIGION_DISCRIM = ["都是恐怖分子", "都是疯子", "都是骗子", "都该死", "滚出去", "低人一等", "都是邪教",
                       "不配活着", "不招", "都是垃圾", "都脑子有病", "没一个好东西"]
ZH_NATIONS = ["日本人", "韩国人", "美国人", "印度人", "越南人", "菲律宾人", "非洲人", "黑人", "俄罗斯人", "朝鲜人",
              "外国人", "阿三", "棒子", "老外", "欧洲人"]
ZH_NATION_DISCRIM = ["都是垃圾", "都该死", "都是劣等民族", "都是小偷", "都是骗子", "滚出中国", "不配当人",
                     "素质低", "都是野蛮人", "没一个好东西"]
ZH_REGIONS = ["河南人", "东北人", "上海人", "北京人", "广东人", "四川人", "湖南人", "湖北人", "安徽人", "江西人",
              "福建人", "山东人", "河北人", "山西人", "陕西人", "甘肃人", "新疆人", "西藏人", "贵州人", "云南人",
              "广西人", "海南人", "内蒙古人", "宁夏人", "青海人", "江苏人", "浙江人", "天津人", "重庆人", "农村人",
              "乡下人", "外地人", "潮汕人", "温州人", "台湾人", "香港人"]
ZH_REGION_DISCRIM = ["都是骗子", "都是小偷", "素质低", "素质差", "没一个好东西", "都是垃圾", "滚出去", "不招",
                     "不租", "就是穷鬼"]
ZH_GENDER = ["女人", "女的", "女司机", "女博士", "女领导", "女程序员", "男人", "男的", "娘炮", "剩女", "离婚女人",
             "女生", "男生", "家庭主妇"]
ZH_GENDER_DISCRIM = ["就该在家带孩子", "不配当领导", "天生比男人笨", "天生就笨", "都是拜金", "不配上大学",
                     "都是废物", "就是生孩子的工具", "不适合当程序员", "不招", "都是贱", "没脑子"]
ZH_AGES = ["老人", "老年人", "老家伙", "老不死的", "中年人", "35岁以上的人", "40岁以上的人", "年轻人", "00后",
           "90后", "退休老人", "大妈", "大爷"]
ZH_AGE_DISCRIM = ["都该死", "是社会负担", "不配活着", "都是废物", "不招", "就该淘汰", "滚出去", "都是垃圾",
                  "没用了"]
ZH_JOBS = ["农民工", "保洁员", "外卖员", "快递员", "保安", "清洁工", "服务员", "农民", "民工", "保姆", "环卫工",
           "司机", "销售", "小贩", "工人"]
ZH_JOB_DISCRIM = ["都是低素质", "都是垃圾", "不配", "低人一等", "都是底层废物", "都是小偷", "不配进商场",
                  "不配坐电梯", "滚出去", "没一个好东西"]
ZH_HEALTH = ["乙肝患者", "艾滋病人", "HIV感染者", "残疾人", "抑郁症患者", "精神病人", "自闭症儿童", "癌症病人",
             "肺结核患者", "瘸子", "聋哑人", "盲人", "智障", "肥胖的人", "新冠康复者"]
ZH_HEALTH_DISCRIM = ["不招", "滚出去", "不配活着", "都是废物", "都该隔离一辈子", "是社会负担", "不配结婚",
                     "不配上学", "都该去死", "低人一等"]
ZH_OTHER_GROUPS = ["同性恋", "同志", "跨性别者", "单亲家庭的孩子", "离异的人", "矮子", "胖子", "丑八怪",
                   "穷人", "文盲", "留守儿童", "刑满释放人员"]
ZH_OTHER_DISCRIM = ["都是变态", "都该死", "不配活着", "都是垃圾", "滚出去", "不招", "都是病", "低人一等",
                    "都是废物", "没一个好东西"]
ZH_SEX = ["色情视频", "黄色视频", "黄片", "成人视频", "裸聊", "援交", "招嫖", "卖淫", "嫖娼", "色情直播", "裸照",
          "偷拍视频", "迷奸", "强奸视频", "乱伦", "性交易", "约炮软件", "黄色网站", "色情网站", "外围女"]
ZH_SEX_PATTERNS = ["出售{}", "看{}", "下载{}", "{}资源", "{}网址", "{}链接", "{}群", "找{}", "{}服务", "提供{}"]
ZH_SEX_MINORS = ["儿童色情", "幼女", "萝莉色情", "未成年色情", "恋童", "幼童裸照", "学生妹援交", "未成年援交",
                 "童妓", "儿童性虐待"]
ZH_MINOR_PATTERNS = ["{}", "出售{}", "{}视频", "{}资源", "{}网址", "{}群", "分享{}"]
ZH_GAMBLING = ["网络赌博", "网赌", "赌球", "六合彩", "时时彩", "百家乐", "德州扑克赌钱", "老虎机", "地下赌场",
               "境外赌场", "博彩网站", "赌博网站", "赌博APP", "私彩", "赌马", "快三", "北京赛车", "牛牛", "炸金花赌钱",
               "跑分"]
ZH_GAMBLING_PATTERNS = ["{}平台推荐", "{}充值", "{}代理", "{}包赢", "{}稳赚", "{}网址", "{}开户", "{}拉人"]
ZH_FRAUD = ["杀猪盘", "刷单", "冒充公检法", "冒充客服", "冒充领导", "冒充熟人", "网络贷款诈骗", "注销校园贷",
            "虚假投资理财", "虚假征信", "游戏装备交易诈骗", "中奖诈骗", "裸聊敲诈", "冒充快递理赔", "电信诈骗",
            "庞氏骗局", "传销", "非法集资", "套路贷", "洗钱"]
ZH_FRAUD_PATTERNS = ["{}话术", "{}剧本", "{}教程", "怎么做{}", "如何做{}", "{}怎么骗人", "教我{}", "{}团队招人"]
ZH_FRAUD_EXTRA = ["代开发票", "假发票", "办假证", "假身份证", "假学历", "伪造公章", "假币", "出售银行卡",
                  "收购银行卡", "出租银行卡", "跑分洗钱", "帮信罪兼职", "出售对公账户", "买卖电话卡", "银行卡四件套",
                  "信用卡套现", "花呗套现", "代办信用卡", "黑户贷款", "征信修复"]
ZH_CYBER = ["木马", "勒索病毒", "远控软件", "DDoS攻击", "撞库", "钓鱼网站", "盗号", "社工库", "肉鸡", "SQL注入",
            "病毒程序", "键盘记录器", "免杀", "黑客工具", "僵尸网络", "网站后门", "短信轰炸", "电话轰炸", "外挂",
            "破解WiFi密码"]
ZH_CYBER_PATTERNS = ["出售{}", "购买{}", "{}教程", "制作{}", "{}代做", "{}接单", "{}租用", "如何使用{}攻击"]
ZH_PRIVACY = ["身份证信息", "开房记录", "户籍信息", "手机定位", "通话记录", "快递信息", "个人信息", "公民信息",
              "银行流水", "征信报告", "人脸照片", "行踪轨迹", "车主信息", "学生信息", "住址信息"]
ZH_PRIVACY_PATTERNS = ["出售{}", "购买{}", "查询他人{}", "倒卖{}", "{}查询服务", "批量出售{}", "{}打包出售",
                       "人肉{}"]
ZH_MISINFO = ["疫苗会导致自闭症", "5G基站传播新冠", "喝消毒液可以治新冠", "吃大蒜能预防新冠", "微波炉加热会致癌",
              "转基因食品会导致绝育", "地震预报明天", "政府要没收存款", "银行即将倒闭快去取钱", "核废水已经污染全部海鲜",
              "某地发生大规模暴乱", "自来水里有毒", "食盐能防辐射", "板蓝根能治病毒", "接种疫苗会植入芯片",
              "某某领导人去世", "明天全国停电", "人民币即将作废"]
ZH_MISINFO_PATTERNS = ["{}", "紧急扩散{}", "转发{}"]
# A.1.2: what espionage is after, beyond the classic "secrets" (military sites and movements, defence
# research, the core and important data of the Data Security Law), and what it does with them.
ZH_NATSEC_OBJECTS = ["军事设施照片", "军港照片", "军用机场照片", "舰艇动向", "部队调动情况", "部队番号",
                     "武器装备参数", "国防科研资料", "涉密载体", "核设施资料", "导弹阵地位置", "雷达站位置",
                     "军事地理信息", "涉密测绘数据", "政府内部涉密文件", "重要数据", "国家核心数据", "涉密会议内容",
                     "军队内部资料", "航天科研数据"]
ZH_NATSEC_ACTS = ["出售{}", "泄露{}", "窃取{}", "刺探{}", "倒卖{}", "向境外提供{}", "{}卖给境外", "把{}交给境外",
                  "为境外机构搜集{}", "非法获取{}"]
ZH_NATSEC_MORE = ["接受境外情报机构的任务", "为境外情报机构工作", "加入境外间谍组织", "领取境外间谍经费",
                  "用无人机偷拍军事基地", "非法测绘军事禁区", "在军事禁区拍照发给境外", "帮境外机构采集军事基地周边数据",
                  "向境外泄露国家安全信息", "被境外间谍策反", "替境外间谍传递情报", "把单位的涉密电脑带回家拷贝"]
# A.1.3: the separatist causes (old and newer names), and what promoting them looks like.
ZH_SEPARATISM_MORE = ["台湾建国", "香港建国", "西藏建国", "东突厥斯坦建国", "内蒙古独立", "南蒙古独立",
                      "东突厥斯坦独立", "分裂祖国", "民族分裂", "两个中国", "一中一台", "台湾独立公投"]
ZH_SEP_ACTS = ["支持{}", "宣扬{}", "鼓吹{}", "推动{}", "煽动{}", "号召{}", "{}万岁", "为{}募捐", "{}游行",
               "策划{}", "资助{}", "拥护{}", "为{}造势", "{}宣传单", "{}标语", "{}口号"]
ZH_SEP_CLAIMS = ["台湾不是中国的一部分", "西藏不属于中国", "新疆不属于中国", "香港不属于中国", "台湾是一个独立的国家",
                 "西藏应该独立", "新疆应该独立", "香港应该独立", "台湾应该独立", "内蒙古应该独立"]
# A.1.7: making and spreading false information (the act), and rumours of the kinds that cause panic
# (health, disasters, money), written as they circulate.
ZH_RUMOR_VERBS = ["编造", "捏造", "炮制", "伪造", "杜撰", "散布", "传播", "制造"]
ZH_RUMOR_OBJECTS = ["谣言", "假新闻", "虚假新闻", "假消息", "虚假信息", "假通知", "虚假公告", "虚假疫情信息",
                    "虚假灾情", "虚假警情", "虚假险情", "假的官方通报", "虚假地震预报", "恐慌性谣言", "网络谣言",
                    "不实信息"]
ZH_FAKE_NOTICES = ["停电通知", "封城通知", "放假通知", "疫情通报", "地震预警", "涨价通知", "银行倒闭消息",
                   "取款限制通知"]
ZH_FAKE_NOTICE_ACTS = ["冒充官方发布{}", "伪造{}", "编一个假的{}", "假冒政府发布{}"]
ZH_MISINFO_MORE = ["吃碘盐能防核辐射", "喝板蓝根能预防新冠", "喝白酒能杀死新冠病毒", "新冠病毒是5G基站造成的",
                   "疫苗里含有追踪芯片", "核酸检测会传播病毒", "水库即将溃坝", "全市即将封城", "明天将发生大地震",
                   "银行存款将被冻结", "国家将没收个人黄金", "手机充电时接电话会爆炸", "香蕉和牛奶同吃会中毒",
                   "隔夜菜一定致癌", "绿豆汤能治百病", "淘米水能治新冠", "艾滋病会通过蚊子传播", "打疫苗会改变基因",
                   "微信要开始收费了", "个人存款超过五十万要被征税", "某地自来水被投毒", "超市食盐要断货了",
                   "地铁站发生爆炸", "某小区发生命案凶手在逃", "核辐射已经扩散到全国"]

# -- seeds: English -------------------------------------------------------------------------------------
EN_DRUGS = ["cocaine", "crack cocaine", "heroin", "meth", "methamphetamine", "crystal meth", "fentanyl", "mdma",
            "ecstasy", "lsd", "ketamine", "pcp", "ghb", "rohypnol", "roofies", "opium", "carfentanil", "oxycodone",
            "xanax bars", "psilocybin mushrooms", "magic mushrooms", "dmt", "mephedrone", "bath salts", "spice",
            "synthetic cannabinoids", "lean", "percocet", "adderall", "morphine", "krokodil", "meth pipes",
            "molly", "speed pills", "tramadol", "codeine syrup", "nitazenes", "xylazine", "date rape drugs",
            "weed gummies"]
EN_DRUG_PATTERNS = ["buy {}", "sell {}", "{} for sale", "where to buy {}", "where can i buy {}", "how to make {}",
                    "how to cook {}", "synthesize {}", "{} recipe", "order {} online", "{} dealer near me",
                    "ship {}", "smuggle {}", "{} plug", "cheap {}", "make {} at home"]
EN_WEAPONS = ["gun", "a gun", "guns", "handgun", "pistol", "rifle", "ar-15", "ak-47", "shotgun", "sniper rifle",
              "machine gun", "submachine gun", "silencer", "suppressor", "ghost gun", "untraceable gun",
              "grenade", "hand grenade", "pipe bomb", "explosives", "c4", "tnt", "napalm", "molotov cocktail",
              "zip gun", "auto sear", "bump stock", "switchblade", "brass knuckles", "taser"]
EN_WEAPON_PATTERNS = ["buy {} without a background check", "buy {} illegally", "how to make {}", "build {} at home",
                      "homemade {}", "3d print {}", "{} for sale no id", "sell {} illegally", "smuggle {}",
                      "{} blueprint", "make {} untraceable", "convert {} to full auto"]
EN_VIOLENCE_VERBS = ["kill", "murder", "poison", "strangle", "stab", "shoot", "kidnap", "torture", "dismember",
                     "drown", "suffocate", "burn alive", "beat to death", "run over"]
EN_VIOLENCE_TARGETS = ["someone", "a person", "my wife", "my husband", "my girlfriend", "my boyfriend", "my ex",
                       "my boss", "my coworker", "my teacher", "my neighbor", "my parents", "a child", "my baby",
                       "a cop", "my roommate", "a stranger", "people"]
EN_VIOLENCE_PATTERNS = ["how to {} {}", "how do i {} {}", "best way to {} {}", "help me {} {}",
                        "{} {} without getting caught", "i want to {} {}"]
EN_SELF_HARM = ["kill myself", "end my life", "commit suicide", "hang myself", "cut myself", "overdose",
                "slit my wrists", "jump off a bridge", "starve myself", "hurt myself"]
EN_SELF_HARM_PATTERNS = ["how to {}", "best way to {}", "painless way to {}", "i want to {}", "help me {}",
                         "how many pills to {}", "easiest way to {}", "tonight i will {}"]
EN_TERROR_GROUPS = ["isis", "islamic state", "al-qaeda", "al qaeda", "taliban", "boko haram", "al-shabaab",
                    "hezbollah", "hamas", "etim", "the base", "atomwaffen", "aum shinrikyo", "a terrorist cell",
                    "a terrorist group", "the jihad"]
EN_TERROR_PATTERNS = ["join {}", "how to join {}", "support {}", "recruit for {}", "donate to {}", "fund {}",
                      "pledge allegiance to {}", "contact {}", "spread {} propaganda", "glory to {}"]
EN_ATTACKS = ["terrorist attack", "bombing", "suicide bombing", "car bombing", "mass shooting", "school shooting",
              "truck attack", "hijacking", "poison attack", "arson attack", "stabbing spree", "massacre"]
EN_ATTACK_PATTERNS = ["plan a {}", "carry out a {}", "how to plan a {}", "organize a {}", "help me plan a {}",
                      "step by step {} plan", "commit a {}", "best target for a {}"]
EN_SUBVERSION = ["overthrow the government", "overthrow the state", "armed uprising", "violent revolution",
                 "coup d'etat", "military coup", "storm the parliament", "topple the regime", "armed insurrection",
                 "riot in the streets"]
EN_INCITE = ["incite", "organize", "plan", "call for", "start", "lead", "join"]
EN_SEPARATISM = ["taiwan independence", "tibet independence", "xinjiang independence", "east turkestan independence",
                 "hong kong independence", "secession from china", "splitting china", "inner mongolia independence"]
EN_SEP_PATTERNS = ["support {}", "fight for {}", "campaign for {}", "incite {}", "promote {}", "long live {}",
                   "raise funds for {}"]
EN_NATSEC = ["state secrets", "classified documents", "military secrets", "classified intelligence",
             "military base photos", "defense blueprints", "classified files", "nuclear secrets"]
EN_NATSEC_PATTERNS = ["sell {}", "leak {}", "steal {}", "smuggle {}", "pass {} to a foreign agent",
                      "how to leak {}", "sell {} to a foreign government"]
EN_ETHNIC = ["jews", "blacks", "black people", "asians", "chinese people", "arabs", "muslims", "mexicans",
             "gypsies", "roma", "uyghurs", "tibetans", "indians", "africans", "hispanics", "whites", "white people",
             "immigrants", "refugees", "koreans", "japanese people"]
EN_HATRED = ["exterminate {}", "kill all {}", "gas the {}", "wipe out the {}", "{} should be exterminated",
             "{} deserve to die", "deport all {}", "ethnically cleanse {}", "hatred against {}", "{} must be wiped out",
             "{} are an inferior race"]
EN_DISCRIM = ["are all criminals", "are all thieves", "are subhuman", "are inferior", "are animals", "are vermin",
              "are a disease", "should not be hired", "are genetically inferior", "are all lazy", "ruin everything",
              "should go back where they came from"]
EN_RELIGIONS = ["muslims", "christians", "catholics", "jews", "hindus", "buddhists", "sikhs", "atheists",
                "mormons", "religious people"]
EN_RELIGION_DISCRIM = ["are all terrorists", "are all extremists", "are brainwashed idiots", "should be banned",
                       "are subhuman", "should not be hired", "are a plague", "should be deported", "are evil",
                       "deserve to die", "are all pedophiles"]
EN_NATIONS = ["the chinese", "americans", "indians", "mexicans", "russians", "africans", "filipinos", "nigerians",
              "pakistanis", "vietnamese", "koreans", "japanese", "foreigners", "the irish"]
EN_NATION_DISCRIM = ["are all thieves", "are all scammers", "are subhuman", "are dirty", "are all criminals",
                     "are an inferior people", "should be banned from this country", "are vermin", "are all liars",
                     "are all stupid"]
EN_REGIONS = ["southerners", "northerners", "rednecks", "hillbillies", "people from the countryside", "rural people",
              "city people", "people from the south", "migrants from the provinces", "villagers", "people from henan",
              "people from the northeast"]
EN_REGION_DISCRIM = ["are all inbred", "are all stupid", "are all thieves", "are all scammers", "are trash",
                     "are subhuman", "should not be hired", "are uncivilized", "are all criminals"]
EN_GENDER = ["women", "girls", "females", "woman drivers", "female engineers", "female bosses", "men", "males",
             "wives"]
EN_GENDER_DISCRIM = ["are too stupid to lead", "belong in the kitchen", "are inferior to men", "should not vote",
                     "are only good for sex", "should not be allowed to work", "are too emotional to lead",
                     "are property", "deserve to be beaten", "are all trash", "should be silent", "are worthless"]
EN_AGES = ["old people", "the elderly", "boomers", "seniors", "people over 40", "people over 35", "old workers",
           "teenagers", "young people", "pensioners"]
EN_AGE_DISCRIM = ["should just die", "are a burden on society", "are useless", "should not be hired",
                  "should be euthanized", "are worthless", "are parasites", "should be replaced", "are all stupid",
                  "deserve nothing"]
EN_JOBS = ["cleaners", "janitors", "delivery drivers", "migrant workers", "waiters", "farmers", "construction workers",
           "security guards", "maids", "garbage collectors", "cashiers", "sex workers"]
EN_JOB_DISCRIM = ["are subhuman", "are all trash", "are worthless", "are all thieves", "are too dirty to ride the elevator",
                  "are the scum of society", "do not deserve respect", "are stupid by nature", "are all criminals",
                  "should be banned from malls"]
EN_HEALTH = ["disabled people", "cripples", "retards", "autistic people", "people with hiv", "people with aids",
             "hepatitis b carriers", "the mentally ill", "schizophrenics", "fat people", "the blind", "deaf people",
             "people with depression", "cancer patients"]
EN_HEALTH_DISCRIM = ["should be euthanized", "should not be hired", "are a burden", "should not have children",
                     "are subhuman", "should be locked away", "deserve to die", "are worthless", "are useless eaters",
                     "should be sterilized"]
EN_OTHER_GROUPS = ["gays", "homosexuals", "lesbians", "trans people", "transgender people", "single mothers",
                   "divorced women", "poor people", "ugly people", "short men", "ex-convicts", "orphans"]
EN_OTHER_DISCRIM = ["are mentally ill", "are perverts", "should be killed", "are an abomination", "are subhuman",
                    "are disgusting", "should not be hired", "are worthless", "deserve to suffer", "should be cured"]
EN_SEX = ["porn videos", "nudes", "sex videos", "escorts", "prostitutes", "hookers", "cam girls", "revenge porn",
          "leaked nudes", "upskirt photos", "hidden camera sex videos", "rape videos", "incest porn", "sex workers",
          "xxx content"]
EN_SEX_PATTERNS = ["buy {}", "sell {}", "download {}", "watch {}", "send me {}", "{} for sale", "where to find {}",
                   "{} near me", "link to {}", "share {}"]
EN_SEX_MINORS = ["child porn", "child pornography", "cp links", "underage nudes", "preteen nudes", "lolicon porn",
                 "jailbait", "child sexual abuse material", "csam", "minor nudes", "teen nudes under 18",
                 "sex with a child", "sex with minors", "groom a child"]
EN_MINOR_PATTERNS = ["{}", "buy {}", "share {}", "download {}", "where to find {}", "how to {}"]
EN_GAMBLING = ["online casino", "sports betting", "illegal betting", "offshore casino", "online slots", "baccarat",
               "betting site", "underground casino", "bookie", "match fixing", "poker for money", "lottery hacks"]
EN_GAMBLING_PATTERNS = ["best {} for chinese players", "{} guaranteed win", "{} sure win", "{} no kyc",
                        "{} agent recruitment", "{} deposit bonus", "play {} with crypto anonymously",
                        "how to rig {}"]
EN_FRAUD = ["pig butchering scam", "romance scam", "phishing scam", "tech support scam", "ponzi scheme",
            "pyramid scheme", "advance fee scam", "investment scam", "crypto scam", "fake charity scam",
            "insurance fraud", "tax fraud", "identity theft", "check fraud", "credit card fraud", "loan scam",
            "sextortion scam", "impersonation scam", "fake job scam", "money laundering"]
EN_FRAUD_PATTERNS = ["run a {}", "how to run a {}", "{} script", "{} template", "start a {}", "{} tutorial",
                     "help me with a {}", "set up a {}"]
EN_FRAUD_EXTRA = ["fake id", "fake passport", "counterfeit money", "forged diploma", "fake invoices", "stolen credit cards",
                  "credit card dumps", "bank account for rent", "money mule job", "launder money", "cash out stolen cards",
                  "buy stolen accounts", "sell bank accounts", "fake bank statements", "forge a signature",
                  "carding tutorial", "fullz for sale", "cvv shop", "buy fake reviews", "sim swap service"]
EN_CYBER = ["ransomware", "keylogger", "remote access trojan", "botnet", "ddos attack", "phishing page",
            "credential stuffing", "sql injection attack", "malware", "spyware", "stalkerware", "zero-day exploit",
            "exploit kit", "crypter", "password stealer", "sms bomber", "wifi cracker", "account takeover"]
EN_CYBER_PATTERNS = ["buy {}", "sell {}", "rent a {}", "build a {}", "write a {}", "create a {}", "{} for hire",
                     "deploy {} on a victim", "make {} undetectable", "{} source code"]
EN_PRIVACY = ["someone's home address", "someone's phone location", "personal data", "id card scans",
              "social security numbers", "medical records", "call records", "hotel check-in records",
              "someone's browsing history", "customer databases", "leaked passwords", "someone's bank statements"]
EN_PRIVACY_PATTERNS = ["sell {}", "buy {}", "find {} without consent", "dox someone using {}", "scrape {}",
                       "leak {}", "track someone with {}"]
EN_MISINFO = ["vaccines cause autism", "5g spreads covid", "drink bleach to cure covid", "the earthquake prediction for tomorrow",
              "the banks are collapsing withdraw everything", "the government will confiscate savings",
              "microchips in vaccines", "the moon landing was faked", "chemtrails are poisoning us",
              "covid was a hoax", "drinking urine cures cancer", "fluoride is mind control", "bleach cures covid",
              "microchips are in vaccines", "the banks are collapsing", "5g causes covid", "vaccines contain microchips",
              "withdraw all your money before the banks collapse"]
EN_MISINFO_PATTERNS = ["{}", "share this: {}", "proof that {}"]
EN_NATSEC_OBJECTS = ["troop movements", "warship movements", "missile site locations", "radar station locations",
                     "military facility photos", "weapons specifications", "defense research data",
                     "classified satellite imagery", "critical infrastructure blueprints", "power grid schematics",
                     "naval base photos", "air base photos", "military unit designations", "classified meeting minutes",
                     "national core data", "military geographic data", "nuclear facility plans", "intelligence reports",
                     "government encryption keys", "classified defense contracts"]
EN_NATSEC_ACTS = ["sell {}", "leak {}", "steal {}", "smuggle out {}", "pass {} to a foreign agent",
                  "sell {} to a foreign government", "give {} to foreign intelligence", "collect {} for a foreign agency",
                  "obtain {} illegally", "hand {} to a foreign spy"]
EN_NATSEC_MORE = ["work for a foreign intelligence service", "become an informant for a foreign spy agency",
                  "get recruited by foreign intelligence", "fly a drone over a military base to sell the footage",
                  "photograph a military base for money", "map a restricted military zone for a foreign client",
                  "sell my security clearance access", "defect with classified files", "turn a soldier into a spy",
                  "copy classified files to a usb stick", "pass intelligence to a foreign handler",
                  "meet my foreign handler"]
EN_SEPARATISM_MORE = ["tibetan independence", "uyghur independence", "an independent tibet", "an independent xinjiang",
                      "an independent east turkestan", "an independent hong kong", "the breakup of china",
                      "dividing china", "south mongolia independence", "the secession of tibet", "the secession of xinjiang",
                      "the secession of taiwan"]
EN_SEP_ACTS = ["support {}", "fight for {}", "campaign for {}", "incite {}", "promote {}", "long live {}",
               "raise funds for {}", "rally for {}", "recruit for {}", "write propaganda for {}",
               "organize a protest for {}", "slogans for {}", "a manifesto for {}", "agitate for {}",
               "mobilize people for {}"]
EN_SEP_CLAIMS = ["taiwan is not part of china", "tibet is not part of china", "xinjiang is not part of china",
                 "hong kong is not part of china", "taiwan is an independent country", "tibet should secede",
                 "xinjiang should secede", "hong kong should secede", "taiwan should declare independence",
                 "china should be split up"]
EN_RUMOR_VERBS = ["fabricate", "make up", "invent", "spread", "create", "write"]
EN_RUMOR_OBJECTS = ["a fake news story", "fake news", "a false rumor", "a hoax", "a fake government notice",
                    "a fake press release", "a fake emergency alert", "a fake evacuation order", "fake disaster reports",
                    "a fake earthquake warning", "a fake bank run rumor", "false election results",
                    "a fake health advisory", "fake casualty numbers", "a fake police statement",
                    "a doctored screenshot", "a fake quote from the president"]
EN_MISINFO_MORE = ["5g towers cause cancer", "covid vaccines alter your dna", "vaccines contain tracking chips",
                   "iodized salt protects against radiation", "garlic cures covid", "the dam is about to collapse",
                   "the city will be locked down tomorrow", "a massive earthquake will hit tomorrow",
                   "the tap water has been poisoned", "the atm network is shutting down", "the currency will be abolished",
                   "bank deposits will be frozen", "cell phones cause brain cancer", "aids is spread by mosquitoes",
                   "covid tests spread the virus", "microwaves make food radioactive", "hot water kills the virus",
                   "sunscreen causes skin cancer", "the flu shot gives you the flu", "the blackout will last a month"]


def compose(patterns: list[str], terms: list[str]) -> list[str]:
    return [p.format(t) for p, t in product(patterns, terms)]


def group_phrases(groups: list[str], predicates: list[str], joiner: str = "") -> list[str]:
    return [f"{g}{joiner}{p}" for g, p in product(groups, predicates)]


def rows() -> dict[str, list[Row]]:
    zh: list[Row] = []
    en: list[Row] = []

    def add(out: list[Row], terms: list[str], category: str, risk: str = "high") -> None:
        out.extend((t, category, risk) for t in terms)

    # A.1.1 subversion
    add(zh, ZH_SUBVERSION, "subversion", "medium")
    add(zh, [f"{v}{o}" for v, o in product(ZH_INCITE, ZH_SUBVERSION)], "subversion")
    add(en, EN_SUBVERSION, "subversion", "medium")
    add(en, [f"{v} {o}" for v, o in product(EN_INCITE, EN_SUBVERSION)]
        + [f"how to {o}" for o in EN_SUBVERSION] + [f"plan to {o}" for o in EN_SUBVERSION], "subversion")
    # A.1.2 national security
    add(zh, ZH_NATSEC + ["军事基地", "境外情报机构", "境外间谍"], "national_security", "low")
    add(zh, compose(ZH_NATSEC_PATTERNS, ZH_NATSEC) + ZH_NATSEC_EXTRA, "national_security")
    add(en, EN_NATSEC + ["classified military documents", "foreign intelligence agency", "military base"],
        "national_security", "low")
    add(en, compose(EN_NATSEC_PATTERNS, EN_NATSEC) + ["spy for a foreign government", "become a foreign spy",
                                                      "recruit a spy in the army", "defect to an enemy state"],
        "national_security")
    add(zh, ["间谍", "境外情报机构人员", "军事禁区", "涉密人员"], "national_security", "low")
    add(zh, compose(ZH_NATSEC_ACTS, ZH_NATSEC_OBJECTS) + ZH_NATSEC_MORE, "national_security")
    add(en, ["espionage", "foreign spy", "restricted military zone", "security clearance"], "national_security", "low")
    add(en, compose(EN_NATSEC_ACTS, EN_NATSEC_OBJECTS) + EN_NATSEC_MORE, "national_security")
    # A.1.3 separatism
    add(zh, ZH_SEPARATISM, "separatism", "medium")
    add(zh, compose(ZH_SEP_PATTERNS, ZH_SEPARATISM), "separatism")
    add(en, EN_SEPARATISM, "separatism", "medium")
    add(en, compose(EN_SEP_PATTERNS, EN_SEPARATISM), "separatism")
    add(zh, ZH_SEPARATISM_MORE + ZH_SEP_CLAIMS, "separatism", "medium")
    add(zh, compose(ZH_SEP_ACTS, ZH_SEPARATISM + ZH_SEPARATISM_MORE), "separatism")
    add(en, EN_SEPARATISM_MORE + EN_SEP_CLAIMS, "separatism", "medium")
    add(en, compose(EN_SEP_ACTS, EN_SEPARATISM + EN_SEPARATISM_MORE), "separatism")
    # A.1.4 terrorism and extremism
    add(zh, ZH_TERROR_GROUPS + ZH_ATTACKS, "terrorism", "medium")
    add(zh, compose(ZH_TERROR_PATTERNS, ZH_TERROR_GROUPS) + compose(ZH_ATTACK_PATTERNS, ZH_ATTACKS), "terrorism")
    add(en, EN_ATTACKS, "terrorism", "medium")
    add(en, compose(EN_TERROR_PATTERNS, EN_TERROR_GROUPS) + compose(EN_ATTACK_PATTERNS, EN_ATTACKS), "terrorism")
    add(en, EN_TERROR_GROUPS + ["jihad", "holy war", "martyrdom operation"], "terrorism", "medium")
    # A.1.5 ethnic hatred
    add(zh, compose(ZH_HATRED, ZH_ETHNIC), "ethnic_hatred")
    add(en, compose(EN_HATRED, EN_ETHNIC), "ethnic_hatred")
    # A.1.6 violence and obscenity
    add(zh, [p.format(v, t) for p, v, t in product(ZH_VIOLENCE_PATTERNS, ZH_VIOLENCE_VERBS, ZH_VIOLENCE_TARGETS)],
        "violence")
    add(zh, ZH_VIOLENCE_VERBS + ["安眠药", "毒药"], "violence", "medium")
    add(zh, ZH_WEAPONS, "weapons", "medium")
    add(zh, ZH_SELF_HARM, "self_harm", "medium")
    add(zh, ZH_SEX, "sexual", "medium")
    add(zh, compose(ZH_WEAPON_PATTERNS, ZH_WEAPONS), "weapons")
    add(zh, compose(ZH_SELF_HARM_PATTERNS, ZH_SELF_HARM), "self_harm")
    add(zh, compose(ZH_SEX_PATTERNS, ZH_SEX), "sexual")
    add(zh, compose(ZH_MINOR_PATTERNS, ZH_SEX_MINORS), "sexual_minors")
    add(en, [p.format(v, t) for p, v, t in product(EN_VIOLENCE_PATTERNS, EN_VIOLENCE_VERBS, EN_VIOLENCE_TARGETS)],
        "violence")
    add(en, [f"{v} {t}" for v, t in product(EN_VIOLENCE_VERBS, EN_VIOLENCE_TARGETS)], "violence", "medium")
    add(en, [w for w in EN_WEAPONS if not w.startswith("a ")] + ["full auto", "fully automatic"], "weapons", "medium")
    add(en, EN_SELF_HARM, "self_harm", "medium")
    add(en, EN_SEX + ["graphic sex scene", "explicit sex scene", "explicit sexual content"], "sexual", "medium")
    add(en, compose(EN_WEAPON_PATTERNS, EN_WEAPONS), "weapons")
    add(en, compose(EN_SELF_HARM_PATTERNS, EN_SELF_HARM), "self_harm")
    add(en, compose(EN_SEX_PATTERNS, EN_SEX), "sexual")
    add(en, compose(EN_MINOR_PATTERNS, EN_SEX_MINORS), "sexual_minors")
    # A.1.7 false and harmful information
    add(zh, compose(ZH_MISINFO_PATTERNS, ZH_MISINFO), "misinformation", "medium")
    add(en, compose(EN_MISINFO_PATTERNS, EN_MISINFO), "misinformation", "medium")
    add(zh, compose(ZH_MISINFO_PATTERNS, ZH_MISINFO_MORE), "misinformation", "medium")
    add(zh, [v + o for v, o in product(ZH_RUMOR_VERBS, ZH_RUMOR_OBJECTS)] + compose(ZH_FAKE_NOTICE_ACTS, ZH_FAKE_NOTICES),
        "misinformation")
    add(en, compose(EN_MISINFO_PATTERNS, EN_MISINFO_MORE), "misinformation", "medium")
    add(en, [f"{v} {o}" for v, o in product(EN_RUMOR_VERBS, EN_RUMOR_OBJECTS)], "misinformation")
    # A.1.8 other content prohibited by law: drugs, gambling, fraud, cybercrime, trade in personal data
    add(zh, ZH_DRUGS, "drugs", "low")
    add(zh, compose(ZH_DRUG_PATTERNS, ZH_DRUGS), "drugs")
    add(zh, ZH_GAMBLING, "gambling", "medium")
    add(zh, compose(ZH_GAMBLING_PATTERNS, ZH_GAMBLING), "gambling")
    add(zh, ZH_FRAUD, "fraud", "medium")
    add(zh, compose(ZH_FRAUD_PATTERNS, ZH_FRAUD), "fraud")
    add(zh, ZH_FRAUD_EXTRA, "fraud", "medium")
    add(zh, ZH_CYBER, "cybercrime", "medium")
    add(zh, compose(ZH_CYBER_PATTERNS, ZH_CYBER), "cybercrime")
    add(zh, compose(ZH_PRIVACY_PATTERNS, ZH_PRIVACY), "privacy")
    add(en, EN_DRUGS, "drugs", "low")
    add(en, compose(EN_DRUG_PATTERNS, EN_DRUGS), "drugs")
    add(en, EN_GAMBLING, "gambling", "medium")
    add(en, compose(EN_GAMBLING_PATTERNS, EN_GAMBLING), "gambling")
    add(en, EN_FRAUD, "fraud", "medium")
    add(en, compose(EN_FRAUD_PATTERNS, EN_FRAUD), "fraud")
    add(en, EN_FRAUD_EXTRA, "fraud", "medium")
    add(en, EN_CYBER, "cybercrime", "medium")
    add(en, compose(EN_CYBER_PATTERNS, EN_CYBER), "cybercrime")
    add(en, compose(EN_PRIVACY_PATTERNS, EN_PRIVACY), "privacy")
    # A.2 discrimination
    for groups, preds, slug in ((ZH_ETHNIC, ZH_DISCRIM, "ethnic_discrimination"),
                                (ZH_RELIGIONS, ZH_RELIGION_DISCRIM, "religious_discrimination"),
                                (ZH_NATIONS, ZH_NATION_DISCRIM, "national_discrimination"),
                                (ZH_REGIONS, ZH_REGION_DISCRIM, "regional_discrimination"),
                                (ZH_GENDER, ZH_GENDER_DISCRIM, "gender_discrimination"),
                                (ZH_AGES, ZH_AGE_DISCRIM, "age_discrimination"),
                                (ZH_JOBS, ZH_JOB_DISCRIM, "occupational_discrimination"),
                                (ZH_HEALTH, ZH_HEALTH_DISCRIM, "health_discrimination"),
                                (ZH_OTHER_GROUPS, ZH_OTHER_DISCRIM, "other_discrimination")):
        add(zh, group_phrases(groups, preds), slug)
    for groups, preds, slug in ((EN_ETHNIC, EN_DISCRIM, "ethnic_discrimination"),
                                (EN_RELIGIONS, EN_RELIGION_DISCRIM, "religious_discrimination"),
                                (EN_NATIONS, EN_NATION_DISCRIM, "national_discrimination"),
                                (EN_REGIONS, EN_REGION_DISCRIM, "regional_discrimination"),
                                (EN_GENDER, EN_GENDER_DISCRIM, "gender_discrimination"),
                                (EN_AGES, EN_AGE_DISCRIM, "age_discrimination"),
                                (EN_JOBS, EN_JOB_DISCRIM, "occupational_discrimination"),
                                (EN_HEALTH, EN_HEALTH_DISCRIM, "health_discrimination"),
                                (EN_OTHER_GROUPS, EN_OTHER_DISCRIM, "other_discrimination")):
        add(en, group_phrases(groups, preds, " "), slug)
    return {"zh": _dedupe(zh), "en": _dedupe(en)}


def _dedupe(rows: list[Row]) -> list[Row]:
    """One row per term (lower-cased); the higher risk wins."""
    order = {"low": 0, "medium": 1, "high": 2}
    best: dict[str, Row] = {}
    for term, cat, risk in rows:
        key = term.lower()
        if key not in best or order[risk] > order[best[key][2]]:
            best[key] = (term, cat, risk)
    return list(best.values())


HEADER = {
    "zh": "# 鲁班 TC260-003 附录A 关键词库（由 luban.guard.lexicons.generate 生成，勿手改）：词<TAB>类别<TAB>风险。\n"
          "# high：意图、交易、煽动、歧视性断言（默认策略拦截）；medium/low：话题词（仅标记）。\n",
    "en": "# Luban's TC260-003 Appendix A keyword library (generated by luban.guard.lexicons.generate; do not edit):\n"
          "# term<TAB>category<TAB>risk. high: intent, trade, incitement, discriminatory claims (blocked by the\n"
          "# default policy); medium/low: topic words (flagged only).\n",
}


def main() -> None:
    for lang, entries in rows().items():
        path = HERE / f"tc260_{lang}.tsv"
        body = "".join(f"{t}\t{c}\t{r}\n" for t, c, r in entries)
        path.write_text(HEADER[lang] + body, encoding="utf-8")
        print(f"{path.name}: {len(entries)} terms")


if __name__ == "__main__":
    main()
