"""E-mail: addresses found; density-named image assets and SSH remotes are not addresses."""

from __future__ import annotations

from luban.guard.detectors.email import Email


def found(text: str) -> list[str]:
    return [m.text for m in Email().find(text)]


def test_addresses_are_found() -> None:
    assert found("mail li.lei+cs@mail.example.com.") == ["li.lei+cs@mail.example.com"]
    assert found("联系 zhang_san@example.cn 或 ops@corp.example.co.uk") == ["zhang_san@example.cn",
                                                                          "ops@corp.example.co.uk"]
    assert found("reports to dev@tools.example.py and me@site.zip") == ["dev@tools.example.py", "me@site.zip"]


def test_assets_remotes_and_package_pins_are_not_addresses() -> None:
    assert found("icons: logo@2x.png, banner@3x.webp, sprite@1.5x.svg") == []
    assert found("git clone git@github.com:acme/robot.git") == []
    assert found("npm i lodash@4.17.21 @types/node@20.1.0") == []
    assert found("docker pull nginx@sha256:0123abcd") == []
