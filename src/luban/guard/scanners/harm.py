"""Harmful requests by shape: a harm pattern (an act against a person, contraband, a scam, hatred of a
group) in a sentence that asks for help with it.

Keyword lists find the phrases someone wrote down; requests for harm are phrased in endless ways
("我邻居的狗天天叫，有什么药能让它死掉", "what can I slip into her drink"). This scanner matches the
*shapes* such requests share, per Appendix A risk, in Chinese and English: a harmful act with its object
(`毒死…`, `poison my …`), an acquisition of contraband (`买到真枪`, `buy a gun`), a derogatory claim about
a group (`…都是骗子`, `… are inferior`). A shape only counts in a sentence with an intent cue and no
purpose cue (`luban.guard.scanners.intent`): "how do I poison my roommate" is blocked, "the victim was
poisoned, write the detective's opening" and "why did the Qin dynasty collapse" are not.
The patterns are written from how such requests are phrased in general, not from any test bank; the
benchmark (`bench/guard_banks.py`) also reports prompts that were written after the patterns were frozen.

Patterns miss what nobody wrote a pattern for, so a small classifier backs them: TF-IDF over character
1-3-grams and logistic regression (scikit-learn), trained on first use (about a second) from the shipped
bilingual banks (`must_refuse` as harmful; `must_answer`, everyday requests in `benign.jsonl` and the
benign injection examples as safe),
offline on CPU. In a text longer than 600 characters it reads only the sentences that ask for something
(a document pasted with a question reads as its question), up to 600 characters. It reports a
prompt whose probability reaches `threshold` (0.7: at 0.5 it refused more unseen harmful prompts but
also more safe ones; see docs/benchmarks.md).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

from luban.guard.normalize import Text
from luban.guard.scanners.base import Scanner, ScannerConfig
from luban.guard.scanners.injection import window
from luban.guard.scanners.intent import asking_sentences, intent_of
from luban.guard.scanners.veto import CATEGORIES as VETO_CATEGORIES
from luban.guard.scanners.veto import context_of, vetoed
from luban.guard.verdict import Finding

_ZH_PEOPLE = "(?:人|他|她|他们|她们|它|老板|同事|老婆|老公|妻子|丈夫|邻居|孩子|小孩|老人|仇人|前任|前女友|前男友|父母|家人|室友|同学|老师|领导|路人|女生|男生|对方|别人)"
_EN_TARGET = (r"(?:my|his|her|their|our|your|a|an|the|some|this|that)?\s*(?:[\w']+\s+)?(?:someone|somebody|anyone|people|person|"
              r"him|her|them|wife|husband|boss|neighbou?r|child|kid|baby|roommate|co-?worker|colleague|teacher|"
              r"girlfriend|boyfriend|ex|parents?|mother|father|mom|dad|sister|brother|stranger|enemy|rival|"
              r"classmate|student|dog|cat|pet)s?")
_ZH_GROUP = (r"(?:[\u4e00-\u9fff]{1,4}人|[\u4e00-\u9fff]{1,3}族|女人|女的|女性|男人|老人|老年人|同性恋|穆斯林|基督徒|"
             r"佛教徒|黑人|白人|残疾人|病人|患者|阿姨|保洁|农民工|外卖员|快递员|有乙肝的|乙肝|艾滋|穷人|胖子)")
_EN_GROUP = (r"(?:women|men|girls|females|blacks?|black people|whites|white people|asians|africans|arabs|jews|muslims|"
             r"christians|hindus|gays?|gay people|lesbians|trans people|immigrants|refugees|migrants|old people|"
             r"the elderly|elderly people|seniors|boomers|disabled people|the disabled|cleaners|janitors|"
             r"[a-z]+ people|(?:everyone|people|anyone) from [a-z]+|[a-z]+ns|[a-z]+ese)")

_ZH_AUTHORITY = (r"(?:政府|官方|派出所|公安|警察|警方|卫健委|疾控|气象局|地震局|央行|[\u4e00-\u9fff]{0,4}(?:局|委|部|厅|所|政府|"
                 r"疾控中心))")
_EN_AUTHORITY = (r"(?:the )?(?:police|government|health (?:department|ministry|authorities)|weather service|fire department|"
                 r"ministry|mayor|cdc|who|fema|central bank)\b")
_ZH_SECRET_OBJECT = "(?:军事|军队|军舰|军港|军官|部队|营地|基地|雷达|导弹|国防|军工|涉密|保密|机密|绝密|红头文件|测绘|情报部门)"
_ZH_RECEIVER = "(?:境外|国外|外国|海外|出高价|卖钱|付钱|出钱)"
_EN_SECRET_OBJECT = (r"(?:classified|secret(?:-marked)?|confidential|restricted (?:military )?(?:area|zone)|military|naval|"
                     r"air ?base|shipyard|submarine|missile|deployed|troops?|defen[cs]e (?:files|contractor|ministry)|"
                     r"the ministry|survey maps)")
_EN_RECEIVER = (r"(?:foreign (?:agents?|agency|agencies|intelligence|spy|spies|embassy|buyers?|clients?|contacts?|handlers?)|"
                r"handlers?|embassy|abroad|overseas)")

PATTERNS: dict[str, list[str]] = {
    "violence": [
        "(?:毒死|药死|弄死|害死|打死|砍死|捅死|掐死|勒死|淹死|烧死|撞死|闷死|电死)",
        f"(?:推|扔|丢)(?:{_ZH_PEOPLE})?.{{0,6}}下(?:楼|去|河|海)", "打断.{0,8}(?:腿|手|胳膊)", "打残",
        "(?:饮料|酒|水|饭|菜|杯子|咖啡|奶茶)里(?:下药|下毒|放药|加药)", "下毒|投毒|下药|迷晕|迷药|蒙汗药",
        "伪装成(?:意外|自杀)", "查不出来", f"让(?:{_ZH_PEOPLE}).{{0,6}}(?:死|昏迷|昏过去|消失)",
        f"(?:绑架|拐卖|拐走|虐待|肢解|折磨)(?:{_ZH_PEOPLE})?", "(?:爆炸装置|炸弹|炸药|雷管|燃烧瓶|汽油弹|爆炸物)",
        "伤亡最大|死的人最多",
        rf"\b(?:kill|murder|poison|strangle|suffocate|stab|shoot|drown|kidnap|abduct|torture|maim|hurt|harm|"
        rf"beat up|run over|push)\s+{_EN_TARGET}\b",
        r"\b(?:slip|put|mix|spike)\b.{0,30}\b(?:into|in)\b.{0,20}\b(?:drink|food|coffee|tea|meal)",
        r"\b(?:sedative|roofie|knock (?:them|him|her|someone) out|so (?:it|he|she|they) dies?|make it look like an accident|"
        r"break (?:[\w']+\s+){0,2}legs?|bomb|explosive(?: device)?|ied|detonator|pipe bomb|molotov|"
        r"kill the most people|maximum casualties)\b",
    ],
    "weapons": [
        "(?:真枪|枪支|手枪|步枪|猎枪|气枪|霰弹枪|冲锋枪|子弹|弹药|枪械|管制刀具|消音器)", "改装.{0,6}(?:枪|弹)",
        r"\b(?:real gun|guns?|firearms?|pistol|rifle|ammo|ammunition|silencer|suppressor|full auto|machine gun)\b",
    ],
    "self_harm": [
        "自杀|跳楼|割腕|上吊|寻死|轻生|结束(?:自己的)?生命|(?:一定|肯定|必)会死|不想活|活着太累|想死",
        r"\b(?:suicide|kill myself|end my life|end it all|overdose|slit my wrists|hang myself|jump from|"
        r"to be sure i die|want to die|hurt myself|cut myself)\b",
    ],
    "sexual": [
        "(?:裸照|裸体|色情|黄片|黄色网站|性交易|约炮|援交|嫖娼|卖淫)", "(?:未成年|幼女|儿童|小学生|初中生|萝莉).{0,8}(?:裸|色情|性)",
        r"\b(?:nudes?|nude (?:pictures|photos)|porn|explicit sex|sex scene|escorts?|prostitut\w+|"
        r"(?:minors?|underage|child(?:ren)?|kids?|teens?)\b.{0,20}\b(?:nude|naked|sexual|sex))\b",
    ],
    "prohibited": [
        "(?:大麻|冰毒|毒品|海洛因|可卡因|k粉|摇头丸|芬太尼|麻古|吗啡)",
        r"(?:诈骗|骗钱|骗取|行骗|骗老人|骗人|套现|洗钱|假币|假证|刷单|冒充.{0,8}(?:客服|警察|银行|公检法|领导|亲友))",
        "(?:钓鱼(?:网站|页面|链接)|假的?.{0,8}登录(?:页面|页|界面)|盗号|盗取|账号(?:和)?密码|木马|勒索病毒|入侵|黑进|撞库)",
        "(?:别人|他人)的?.{0,6}(?:身份证|手机号|住址|照片|开房记录|定位|行踪|聊天记录|银行卡)|人肉",
        r"\b(?:weed|cannabis|meth|cocaine|heroin|fentanyl|mdma|lsd|ketamine|drugs)\b",
        r"\b(?:scam|con (?:people|elderly|old people)|pretend(?:ing)? to be (?:their|a|the) (?:bank|police|irs)|"
        r"fake (?:[\w']+\s+)?log-?in page|phishing|steal (?:[\w']+\s+){0,2}passwords?|collect (?:[\w']+\s+){0,2}passwords|"
        r"take over (?:[\w']+\s+){0,2}accounts?|hack (?:into )?(?:[\w']+\s+){0,2}accounts?|launder|counterfeit|"
        r"(?:other people'?s|someone'?s|strangers'?) (?:id|phone numbers?|address|photos|passwords?))\b",
    ],
    "terrorism": [
        "(?:圣战|恐怖袭击|恐袭|人体炸弹|自杀式袭击|极端组织|伊斯兰国|基地组织)",
        r"\b(?:holy war|jihad|terror(?:ist)? attack|martyrdom|isis|islamic state|al-?qaeda)\b",
    ],
    "subversion": [
        "(?:推翻|颠覆).{0,8}(?:政府|政权|制度|国家)", "(?:政变|武装暴动|暴乱|武装起义)",
        r"\b(?:overthrow|topple|coup|armed uprising|insurrection)\b",
    ],
    "separatism": [
        "(?:脱离中国|从中国分裂|分裂国家|台独|藏独|疆独|港独|(?:西藏|新疆|台湾|香港|内蒙古?).{0,6}(?:独立|脱离))",
        r"\b(?:tibet|xinjiang|taiwan|hong kong|inner mongolia)\b.{0,40}\b(?:independen\w+|break away|secede|secession)\b",
        "(?:西藏|新疆|台湾|香港|内蒙古?|东突厥斯坦|东突|各省)[^。？！]{0,15}(?:独立出去|脱离大陆|分出去|分裂出去|自己建国|建国|"
        "自立为国|成为一个国家|成为独立国家)|建国纲领",
        r"\b(?:tibet(?:ans?)?|xinjiang|uyghurs?|taiwan|hong kong|inner mongolia|east turkestan|the provinces)\b.{0,60}"
        r"\b(?:break(?:s|ing)? away|split(?:ting)? from china|separate from china|leave china|(?:its|their) own (?:country|state|nation)|"
        r"sovereign (?:nation|state)|independent from china)\b",
        r"\b(?:republic of (?:hong kong|tibet|east turkestan)|break china apart|split(?:ting)? up china|independent tibetan state)\b",
    ],
    "ethnic_discrimination": [
        f"{_ZH_GROUP}.{{0,10}}(?:都是|个个都是|全是|天生|根本|就是)(?:骗子|小偷|垃圾|劣等|下等人|废物|精神病|变态|累赘|畜生|野蛮人)",
        f"{_ZH_GROUP}.{{0,10}}(?:不配|一律不要|一律不招|不招|滚出|赶走|赶出去|应该早点死|早点死|都该死|去死|关起来|是累赘|是社会的累赘)",
        f"(?:把|让)?{_ZH_GROUP}.{{0,6}}(?:都)?(?:赶走|赶出去|驱逐|消灭|杀光)",
        rf"\b{_EN_GROUP}\b.{{0,40}}\b(?:are|is)\b.{{0,20}}\b(?:inferior|subhuman|animals|vermin|a burden|con artists?|"
        r"criminals|thieves|lowlifes|mentally ill|unfit|worthless|trash|parasites|scum)\b",
        rf"\b{_EN_GROUP}\b.{{0,40}}\b(?:should (?:[\w']+\s+){{0,2}}die|must get out|get out of|be locked up|be driven out|"
        r"be deported|be banned|never hire|shouldn'?t share)\b",
        rf"\b(?:never hire|driven out|drive out|get rid of)\b.{{0,30}}\b{_EN_GROUP}\b",
    ],
    "misinformation": [
        "(?:编|造|捏造|伪造|编造)(?:一|个|几)?(?:条|篇|段|份)?.{0,6}(?:消息|新闻|谣言|通知|公告)|假(?:消息|新闻|通知|公告)",
        r"\b(?:fake (?:news|notice|report|announcement)|make up (?:a|an)|fabricat\w+|hoax)\b",
        # passing a message off as an authority's, or a claim off as true
        f"(?:冒充|假冒|装成|伪装成|假扮成?){_ZH_AUTHORITY}", f"以{_ZH_AUTHORITY}的?名义.{{0,10}}(?:通报|通知|公告|预警|声明)",
        "假称|谎称|越真越好|假专家|像真的一样",
        "(?:朋友圈|微博|帖子|爆料|群聊消息|短信|解说词|视频文案)[^。？！]{0,12}(?:说(?!说)|声称|宣称|称)[^。？！]{0,30}"
        "(?:被污染|被投毒|有毒|地震|倒闭|资不抵债|取不出|封城|停工停课|去世|死亡|致死|怪病|爆炸|溃坝|停电|断水)",
        rf"\b(?:posing as|pos(?:e|ing) as|pretend(?:ing)? to be|in the name of|impersonat\w+)\s+{_EN_AUTHORITY}",
        r"\b(?:so it looks real|make it (?:look|sound) (?:real|official|legit)|invented quotes|made-up (?:experts|quotes|sources)|"
        r"fake (?:experts|quotes|sources)|though there is none|insider leak|edited screenshot|doctored (?:photo|screenshot|video))\b",
        r"\b(?:claiming|saying|announcing|warning)\b.{0,80}\b(?:(?:will|is going to) hit .{0,30}tomorrow|died from (?:a|the) vaccine|"
        r"cures? (?:cancer|diabetes|covid|hiv|aids|hypertension|autism)|(?:cap|freeze|limit) withdrawals|"
        r"(?:water|water supply|tap water) (?:has been|is|was) (?:contaminated|poisoned))",
    ],
    "national_security": [
        "(?:机密|绝密|涉密|情报|军事基地|营区|军营|部队).{0,14}(?:卖|出售|提供|泄露|交给)",
        "(?:卖|出售|提供|泄露|交)给(?:境外|外国|国外)",
        r"\b(?:classified|secret documents|military base|my base|barracks|intelligence)\b.{0,40}\b(?:sell|leak|pass|give)\b",
        r"\b(?:sell|leak|pass|give)\b.{0,40}\bto (?:foreigners|a foreign|foreign)\b",
        # a military or secret object and a foreign or paying receiver, in either order; getting it out
        f"{_ZH_SECRET_OBJECT}.{{0,40}}{_ZH_RECEIVER}|{_ZH_RECEIVER}.{{0,40}}{_ZH_SECRET_OBJECT}",
        "(?:机密|绝密|涉密|保密|秘密|内网|红头)[^，。？！]{0,15}(?:拷出|拷贝出|带出|偷出|复制出|传出|拍下)",
        f"{_ZH_SECRET_OBJECT}[^。？！]{{0,20}}(?:透露给我|套出|打听到|偷拍)",
        rf"\b{_EN_SECRET_OBJECT}\b.{{0,100}}\b{_EN_RECEIVER}\b|\b{_EN_RECEIVER}\b.{{0,100}}\b{_EN_SECRET_OBJECT}\b",
        r"\b(?:classified|secret(?:-marked)?|confidential|military|restricted)\b.{0,80}\bwithout (?:triggering|anyone|customs|"
        r"being|getting|my (?:boss|employer))\b",
        r"\b(?:persuade|convince|get|recruit|befriend)\b.{0,60}\b(?:soldiers?|officers?|defen[cs]e contractor|engineers?|"
        r"employees?)\b.{0,60}\b(?:hand over|tell me|give me|leak|pass)\b",
    ],
}
_COMPILED = [(cat, re.compile(p, re.IGNORECASE)) for cat, ps in PATTERNS.items() for p in ps]


BANKS = Path(__file__).resolve().parent.parent / "banks"
CLASSIFIED_CHARS = 600  # a longer text: the classifier reads only its sentences that ask for something


def training_rows() -> tuple[list[str], list[int]]:
    """The classifier's examples: must-refuse prompts (1); must-answer prompts, everyday requests and the
    benign injection examples (0)."""
    texts: list[str] = []
    labels: list[int] = []
    for name, label in (("must_refuse", 1), ("must_answer", 0), ("injection", 0), ("benign", 0)):
        for line in (BANKS / f"{name}.jsonl").read_text(encoding="utf-8").splitlines():
            row = json.loads(line) if line.strip() else None
            if row is None or (name == "injection" and row["label"] != 0):
                continue
            texts.append(Text(row["text"]).norm.text)
            labels.append(label)
    return texts, labels


def make_classifier() -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True),
                         LogisticRegression(C=16.0, class_weight="balanced", max_iter=3000))


@lru_cache(maxsize=1)
def classifier() -> Any:
    """The harmful-request classifier, trained on first use from the shipped banks."""
    texts, labels = training_rows()
    model = make_classifier()
    model.fit(texts, labels)
    return model


class HarmConfig(ScannerConfig):
    categories: list[str] | None = None  # the PATTERNS keys to use; all when None
    classifier: bool = True
    threshold: float = 0.7


class Harm(Scanner):
    name = "harm"
    Config: ClassVar[type[ScannerConfig]] = HarmConfig

    def __init__(self, config: ScannerConfig, base_dir: Path | None = None) -> None:
        super().__init__(config, base_dir)
        assert isinstance(config, HarmConfig)
        self.model = classifier() if config.classifier else None
        self.threshold = config.threshold

    def score(self, text: Text) -> float:
        return self.score_text(window(text.norm.text))

    def score_text(self, norm_text: str) -> float:
        """The classifier's probability that `norm_text` (already normalized) is a harmful request."""
        if self.model is None:
            return 0.0
        return float(self.model.predict_proba([norm_text])[0][1])

    def scan(self, text: Text) -> list[Finding]:
        assert isinstance(self.config, HarmConfig)
        wanted = set(self.config.categories) if self.config.categories else None
        norm = text.norm
        # a shape only counts in a sentence that asks for something: look nowhere else (and save the time)
        asking = asking_sentences(norm.text)
        out: list[Finding] = []
        for category, rx in _COMPILED:
            if wanted is not None and category not in wanted:
                continue
            for s, e in asking:
                m = rx.search(norm.text, s, e)
                if m and category in VETO_CATEGORIES and vetoed(context_of(norm.text, m.start(), m.end())):
                    continue  # a news report of a spy trial, a question on why people hold a separatist view
                if m:
                    start, end = norm.raw(m.start()), norm.raw(m.end() - 1) + 1
                    cue = intent_of(norm.text[s:e])
                    out.append(Finding(category, start, end, reason=f"{category} request '{m.group()}' with intent '{cue}'"))
                    break
            if out:
                break
        if not out and self.model is not None:
            sample = norm.text if len(norm.text) <= CLASSIFIED_CHARS else \
                " ".join(norm.text[s:e] for s, e in asking)[:CLASSIFIED_CHARS]
            p = self.score_text(sample) if sample.strip() else 0.0
            if p >= self.threshold:
                out.append(Finding("harmful_request", 0, len(text.raw), reason=f"classifier p={p:.2f}", score=p))
        return out
