"""Benchmark: precision and recall of every PII detector on a labelled bilingual set, and what they flag
in real software documentation.

    python bench/guard_pii.py                      # 200 positives per detector, 2,400 hard negatives
    python bench/guard_pii.py --per-type 500 --seed 3

The labelled set is generated with valid values: Luhn-valid card numbers in each network's ranges,
checksum-valid Chinese ID numbers with real birth dates, mobile numbers in the 13x-19x blocks, landlines
with real area codes, E.164 numbers, global IPv4/IPv6 addresses, passport numbers of the Chinese series,
GA 36 plates. Each value sits in an English or Chinese sentence from a service, HR or logistics setting.
Hard negatives are sentences of the same settings whose values are shaped like personal data but are
not: order, invoice, tracking, model and part numbers (many of them Luhn- or checksum-valid), dates,
versions, URLs, code identifiers, image assets, times, MAC addresses, letter-only "plates", codes after
city names. The unit tests' negatives (tests/guard/detectors) are written separately from these.

Scoring runs `luban.guard.detectors.scan` (all detectors, overlaps resolved), as `pii` does in a recipe.
A planted span counts as found when a match of its type overlaps it; any other match of a type is a
false positive of that type. The real-text pass runs the same scan over the docstrings of the Python
standard library, the descriptions of the installed distributions and the gettext messages of the
machine's programs (English and Chinese), which hold few real personal data: every hit is printed by
type with examples, for a reader to judge.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import os
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

Span = tuple[str, int, int]  # type, start, end

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超"]
FIRST = ["James", "Mary", "Wei", "Priya", "Olga", "Ahmed", "Lucia", "Kenji", "Sarah", "Tom", "Ana", "Lars"]
LAST = ["Smith", "Chen", "Garcia", "Novak", "Khan", "Tanaka", "Müller", "Rossi", "Okafor", "Lee", "Brown"]
DOMAINS = ["example.com", "mail.example.org", "corp.example.cn", "example.co.uk", "shop.example.net", "163.example.com"]
REGIONS = ["110105", "310104", "440305", "510104", "330106", "420106", "320102", "610113", "500103", "370202"]
AREAS = ["010", "021", "022", "023", "020", "0755", "0571", "028", "027", "0512", "0731", "029"]
PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def luhn_complete(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return body + str((10 - total % 10) % 10)


def digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def cn_id(rng: random.Random) -> str:
    born = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(20000))
    body = rng.choice(REGIONS) + born.strftime("%Y%m%d") + digits(rng, 3)
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, WEIGHTS)) % 11]


def card(rng: random.Random) -> str:
    prefix, length = rng.choice([("62", 16), ("62", 19), ("4", 16), ("51", 16), ("55", 16), ("2221", 16),
                                 ("37", 15), ("3530", 16), ("6011", 16)])
    number = luhn_complete(prefix + digits(rng, length - len(prefix) - 1))
    if rng.random() < 0.5 and length == 16:
        return " ".join(number[i:i + 4] for i in range(0, 16, 4))
    return number


def mobile(rng: random.Random) -> str:
    n = "1" + rng.choice("3456789") + digits(rng, 9)
    return rng.choice([n, f"+86 {n}", f"{n[:3]}-{n[3:7]}-{n[7:]}", f"{n[:3]} {n[3:7]} {n[7:]}"])


def landline(rng: random.Random) -> str:
    area = rng.choice(AREAS)
    local = rng.choice("23456789") + digits(rng, 7 if len(area) == 3 else 6)
    return rng.choice([f"{area}-{local}", f"({area}){local}", f"{area} {local}"])


def intl(rng: random.Random) -> str:
    return rng.choice([f"+1 {rng.randint(201, 989)} 555 {digits(rng, 4)}", f"+44 20 7946 {digits(rng, 4)}",
                       f"+49 30 {digits(rng, 7)}", f"+81 3-{digits(rng, 4)}-{digits(rng, 4)}",
                       f"+33 1 {digits(rng, 2)} {digits(rng, 2)} {digits(rng, 2)} {digits(rng, 2)}",
                       f"+65 {rng.choice('689')}{digits(rng, 3)} {digits(rng, 4)}"])


def ipv4(rng: random.Random) -> str:
    return f"{rng.choice([58, 61, 101, 116, 183, 203, 198, 45, 172, 10, 192])}.{rng.randint(0, 255)}." \
           f"{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def ipv6(rng: random.Random) -> str:
    groups = [rng.choice(["2001", "240e", "2408", "2409", "fe80", "2a00"])] + [f"{rng.randint(0, 65535):x}"
                                                                            for _ in range(7)]
    if rng.random() < 0.5:
        return ":".join(groups)
    return ":".join(groups[:2]) + "::" + ":".join(groups[5:])


def passport(rng: random.Random) -> str:
    return rng.choice([f"E{digits(rng, 8)}", f"E{rng.choice(LETTERS)}{digits(rng, 7)}", f"G{digits(rng, 8)}"])


def plate(rng: random.Random) -> str:
    prov, office = rng.choice(PROVINCES), rng.choice(LETTERS)
    serial = rng.choice([digits(rng, 5), rng.choice(LETTERS) + digits(rng, 4), digits(rng, 3) + rng.choice(LETTERS) + digits(rng, 1),
                         rng.choice("DF") + digits(rng, 5), rng.choice("DF") + rng.choice(LETTERS) + digits(rng, 4)])
    return prov + office + rng.choice(["", "·", ""]) + serial


def email(rng: random.Random) -> str:
    user = rng.choice([f"{rng.choice(FIRST).lower()}.{rng.choice(LAST).lower()}", f"{rng.choice(FIRST).lower()}{digits(rng, 2)}",
                       f"support+{digits(rng, 3)}", f"zhang_{rng.choice(['san', 'wei', 'min'])}"])
    return f"{user.replace('ü', 'u')}@{rng.choice(DOMAINS)}"


VALUES = {"email": email, "cn_mobile": mobile, "cn_landline": landline, "phone": intl, "cn_id": cn_id,
          "bank_card": card, "ipv4": ipv4, "ipv6": ipv6, "passport": passport, "licence_plate": plate}
POSITIVE = {
    "email": ["请将简历发送至{v}，我们会在三个工作日内回复。", "Customer {n} wrote from {v} about the late parcel.",
              "CC: {v}; subject: refund request", "客户{n}的邮箱是{v}，已更新。"],
    "cn_mobile": ["客户{n}的手机号是{v}，请尽快回电。", "联系人：{n}，电话{v}", "Driver {n} can be reached on {v}.",
                  "收件人{n} {v} 上海市徐汇区"],
    "cn_landline": ["公司前台电话{v}，工作日9点到18点。", "传真：{v}", "Office line {v} (ask for {n}).",
                    "请致电{v}转人事部{n}。"],
    "phone": ["Call {n} on {v} before noon.", "国外联系人{n}，电话{v}。", "WhatsApp: {v}", "Mobile {v}, office hours only."],
    "cn_id": ["{n}的身份证号为{v}，请核对。", "身份证：{v}", "Guest {n}, ID card {v}, checked in.", "证件号码{v}（居民身份证）"],
    "bank_card": ["退款将打入{n}的银行卡{v}。", "卡号：{v}，开户行招商银行", "Please charge card {v} for the renewal.",
                  "{n}'s Visa {v} was declined."],
    "ipv4": ["用户{n}的登录IP为{v}。", "Failed login from {v} at 03:12.", "来源地址：{v}", "client={v} user={n}"],
    "ipv6": ["登录来源IPv6地址{v}。", "Blocked {v} after 5 attempts.", "{n} connected from {v}", "源地址 {v} 已封禁"],
    "passport": ["{n}的护照号码为{v}，有效期至2030年。", "Passport No. {v} (holder: {n})", "旅客{n}，护照{v}",
                 "passport number: {v}"],
    "licence_plate": ["车牌号{v}的车主{n}请挪车。", "违章车辆：{v}", "{n}驾驶{v}于昨日进入园区。", "停车场记录：{v} 入场"],
}
NEGATIVE = [
    ("订单号{d11}已发货，请留意物流。", {"d11": lambda r: "1" + r.choice("3456789") + digits(r, 9)}),
    ("Order #{d11} shipped today.", {"d11": lambda r: "1" + r.choice("3456789") + digits(r, 9)}),
    ("发票号码：{card}，金额￥3,200.00", {"card": lambda r: luhn_complete("62" + digits(r, 13))}),
    ("Invoice No. {card} is overdue.", {"card": lambda r: luhn_complete("4" + digits(r, 14))}),
    ("交易流水号{card}，请保存。", {"card": lambda r: luhn_complete("55" + digits(r, 13))}),
    ("Tracking number {card} - out for delivery", {"card": lambda r: luhn_complete("6011" + digits(r, 11))}),
    ("物流单号 {id} 已签收", {"id": cn_id}),
    ("Order ref {id} confirmed", {"id": cn_id}),
    ("型号{p}，功率1200W", {"p": lambda r: r.choice("MEGDSP") + digits(r, 8)}),
    ("Replace Part {p} every 6 months.", {"p": lambda r: r.choice("MEGDSPHK") + digits(r, 8)}),
    ("订单号S{date}01已取消", {"date": lambda r: f"{r.randint(2019, 2025)}{r.randint(1, 12):02d}{r.randint(1, 28):02d}"[:6]}),
    ("批次号D{date}，生产日期见包装。", {"date": lambda r: f"{r.randint(2019, 2025)}{r.randint(1, 12):02d}{r.randint(1, 28):02d}"}),
    ("Upgraded firmware to version {ver}.", {"ver": lambda r: f"{r.randint(1, 9)}.{r.randint(0, 20)}.{r.randint(0, 9)}.{r.randint(0, 99)}"}),
    ("当前版本 v{ver}，建议升级。", {"ver": lambda r: f"{r.randint(1, 9)}.{r.randint(0, 20)}.{r.randint(0, 9)}.{r.randint(0, 99)}"}),
    ("See https://docs.example.com/v{ver}/api#section-{n2}", {"ver": lambda r: str(r.randint(1, 5)), "n2": lambda r: str(r.randint(1, 20))}),
    ("use {mod}; my $x = {mod}->new;", {"mod": lambda r: r.choice(["Archive::Tar::Wrapper", "Log::Dispatch", "Data::Dumper",
                                                                  "File::Spec::Functions", "DBD::Pg", "Moose::Role"])}),
    ("{cpp} is used in the C++ example.", {"cpp": lambda r: r.choice(["std::vector<int>", "boost::asio::ip::tcp", "Eigen::Matrix3d",
                                                                    "absl::StatusOr", "fmt::format", "Face::add"])}),
    ("Icons: {a}@2x.png and {a}@3x.png", {"a": lambda r: r.choice(["logo", "icon-home", "btn_close", "avatar"])}),
    ("git clone git@github.com:{a}/{a}.git", {"a": lambda r: r.choice(["acme", "robot", "luban", "tools"])}),
    ("会议时间 {t}，地点3楼。", {"t": lambda r: f"{r.randint(8, 18):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}"}),
    ("MAC address {mac}", {"mac": lambda r: ":".join(f"{r.randint(0, 255):02X}" for _ in range(6))}),
    ("测试车牌{p}无效。", {"p": lambda r: r.choice(PROVINCES) + "".join(r.choice(LETTERS) for _ in range(6))}),
    ("{c}{L}{d5}号仓库已满。", {"c": lambda r: r.choice(["南京", "北京", "天津", "江苏"]), "L": lambda r: r.choice(LETTERS),
                            "d5": lambda r: digits(r, 5)}),
    ("SKU {d11} 库存不足", {"d11": lambda r: "1" + r.choice("3456789") + digits(r, 9)}),
    ("Serial No.: {d11}", {"d11": lambda r: digits(r, 11)}),
    ("Rates rose +{x}% in Q{q} {y}.", {"x": lambda r: str(r.randint(1, 30)), "q": lambda r: str(r.randint(1, 4)),
                                       "y": lambda r: str(r.randint(2019, 2025))}),
    ("时区UTC+8 {y} {m} {d}", {"y": lambda r: str(r.randint(2019, 2025)), "m": lambda r: f"{r.randint(1, 12):02d}",
                              "d": lambda r: f"{r.randint(1, 28):02d}"}),
    ("路由表：{net}/{pl} via 网关", {"net": lambda r: f"10.{r.randint(0, 255)}.0.0", "pl": lambda r: str(r.choice([16, 20, 24]))}),
    ("netmask {mask}, prefix 2001:db8:{g}::/48", {"mask": lambda r: r.choice(["255.255.255.0", "255.255.240.0", "255.255.255.224"]),
                                                 "g": lambda r: f"{r.randint(0, 65535):x}"}),
    ("ISBN 978-7-{a}-{b}-{c}", {"a": lambda r: digits(r, 3), "b": lambda r: digits(r, 5), "c": lambda r: digits(r, 1)}),
]


def name(rng: random.Random, zh: bool) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN) if zh else f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def positives(rng: random.Random, per_type: int) -> list[tuple[str, list[Span]]]:
    out = []
    for kind, templates in POSITIVE.items():
        for i in range(per_type):
            template = templates[i % len(templates)]
            value = VALUES[kind](rng)
            zh = any("\u4e00" <= c <= "\u9fff" for c in template)
            head, tail = template.split("{v}")
            head = head.replace("{n}", name(rng, zh))
            tail = tail.replace("{n}", name(rng, zh))
            out.append((head + value + tail, [(kind, len(head), len(head) + len(value))]))
    return out


def negatives(rng: random.Random, count: int) -> list[tuple[str, list[Span]]]:
    out = []
    for i in range(count):
        template, fields = NEGATIVE[i % len(NEGATIVE)]
        text = template
        for key, make in fields.items():
            while "{" + key + "}" in text:
                text = text.replace("{" + key + "}", make(rng), 1)
        out.append((text, []))
    return out


def score(items: list[tuple[str, list[Span]]]) -> dict[str, collections.Counter[str]]:
    from luban.guard.detectors import load, scan

    detectors = load()
    counts: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for text, spans in items:
        found = scan(text, detectors)
        for kind, start, end in spans:
            hit = any(m.type == kind and m.start < end and start < m.end for m in found)
            counts[kind]["tp" if hit else "fn"] += 1
        for m in found:
            if not any(m.type == kind and m.start < end and start < m.end for kind, start, end in spans):
                counts[m.type]["fp"] += 1
                counts[m.type]["fp_example:" + text[:60]] += 1
    return counts


def real_text_hits() -> tuple[int, dict[str, list[str]]]:
    from data_dedup_short_set import sources

    from luban.guard.detectors import load, scan

    detectors = load()
    hits: dict[str, list[str]] = collections.defaultdict(list)
    n = 0
    for units_by_source in sources().values():
        for _, units in units_by_source:
            for unit in units:
                n += 1
                for m in scan(unit, detectors):
                    hits[m.type].append(f"{m.text!r} in {unit[max(0, m.start - 30):m.end + 30]!r}")
    return n, hits


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--per-type", type=int, default=200, help="positive sentences per detector")
    ap.add_argument("--negatives", type=int, default=2400, help="hard negative sentences")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-real", action="store_true", help="skip the pass over real documentation")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    items = positives(rng, args.per_type) + negatives(rng, args.negatives)
    counts = score(items)
    print(f"labelled set: {len(items):,} sentences ({args.per_type} positives per detector, "
          f"{args.negatives:,} hard negatives), seed {args.seed}\n")
    print(f"{'detector':<15}{'TP':>6}{'FP':>6}{'FN':>6}{'precision':>11}{'recall':>8}")
    for kind in VALUES:
        c = counts[kind]
        tp, fp, fn = c["tp"], c["fp"], c["fn"]
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        print(f"{kind:<15}{tp:>6}{fp:>6}{fn:>6}{p:>11.3f}{r:>8.3f}")
    for kind in VALUES:
        examples = [k[11:] for k in counts[kind] if k.startswith("fp_example:")]
        if examples:
            print(f"  {kind} false positives, e.g.: " + " | ".join(examples[:3]))
    if not args.no_real:
        n, hits = real_text_hits()
        print(f"\nreal documentation: {n:,} paragraphs and messages (stdlib docstrings, package descriptions, "
              f"gettext catalogs); hits by type:")
        for kind, found in sorted(hits.items()):
            print(f"  {kind}: {len(found)}")
            for example in found[:6]:
                print(f"    {example}")
    print(f"\ndate: {dt.datetime.now():%Y-%m-%d %H:%M}  load: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
