"""HTML pages of the (fictional) Acme website, wrapped in the boilerplate a scraper brings home.

Each page has a nav bar, a cookie banner, a footer, inline <script> and <style>: everything
a main-content extractor (trafilatura-style) must drop while keeping the <article>.
"""

from __future__ import annotations

import html
import random

from . import content, facts
from .facts import Product

NAV = {
    "en": ("Home", "Products", "Support", "Store", "About us", "Sign in"),
    "zh": ("首页", "产品", "服务支持", "商城", "关于我们", "登录"),
}
COOKIE = {
    "en": "We use cookies to improve your experience. By continuing to browse you accept our cookie policy. "
    "<button>Accept all</button> <button>Settings</button>",
    "zh": "本网站使用Cookie以提升浏览体验。继续浏览即表示您同意我们的Cookie政策。"
    "<button>全部接受</button> <button>设置</button>",
}
FOOTER = {
    "en": "© 2024 Acme Robotics. All rights reserved. | Privacy | Terms | Sitemap | Follow us on social media",
    "zh": "© 2024 艾可机器人 版权所有 | 隐私政策 | 使用条款 | 网站地图 | 粤ICP备00000000号",
}
SCRIPT = (
    "<script>window.dataLayer=window.dataLayer||[];function gtag(){{dataLayer.push(arguments);}}"
    "gtag('js',new Date());gtag('config','UA-000000-1');</script>\n"
    '<script src="/static/js/vendor.{h}.js" defer></script>'
)
STYLE = "<style>.nav{{display:flex;gap:1rem}}.cookie{{position:fixed;bottom:0}}#b{h}{{color:#333}}</style>"


def page(title: str, paragraphs: list[str], lang: str, rng: random.Random) -> str:
    """A full HTML document: boilerplate around an <article> holding ``paragraphs``."""
    tag = f"{rng.randrange(16**8):08x}"
    nav = "".join(f'<li><a href="/{lang}/{k}">{item}</a></li>' for k, item in enumerate(NAV[lang]))
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return (
        f'<!DOCTYPE html>\n<html lang="{"zh-CN" if lang == "zh" else "en"}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)} | {facts.COMPANY_EN if lang == 'en' else facts.COMPANY_ZH}</title>\n"
        f"{STYLE.format(h=tag)}\n{SCRIPT.format(h=tag)}\n</head>\n<body>\n"
        f'<header><nav class="nav"><ul>{nav}</ul></nav></header>\n'
        f'<div class="cookie" id="cookie-banner">{COOKIE[lang]}</div>\n'
        f"<main>\n<article>\n<h1>{html.escape(title)}</h1>\n{body}\n</article>\n"
        f'<aside class="related"><a href="/{lang}/store">{"Shop now" if lang == "en" else "立即购买"}</a></aside>\n'
        f"</main>\n<footer>{FOOTER[lang]}</footer>\n"
        f"<script>document.getElementById('cookie-banner').onclick=function(){{this.remove()}};</script>\n"
        "</body>\n</html>\n"
    )


def product_page(p: Product, lang: str, rng: random.Random) -> str:
    """The marketing page of one product."""
    ans = facts.product_answers(p)
    i = 0 if lang == "en" else 1
    name = p.short_en if lang == "en" else p.short_zh
    blurb = content.BLURB[p.category][i].format(n=f"The {name}" if lang == "en" else name)
    title = f"Acme {name}" if lang == "en" else f"艾可{name}"
    paras = [
        blurb,
        ans["spec"][i],
        ans["colour"][i],
        ans["price"][i],
        ans["warranty"][i],
        content.CARE[p.category][i],
    ]
    return page(title, paras, lang, rng)
