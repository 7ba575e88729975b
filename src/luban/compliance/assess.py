"""Run every check against a workspace and a compliance.yaml; returns the items in the report's order."""

from __future__ import annotations

import asyncio
import json
import os
from datetime import datetime, timezone
from typing import Any

from luban.compliance import evidence as ev
from luban.compliance.checks import (
    FAIL,
    PASS,
    UNKNOWN,
    Item,
    banks_item,
    human,
    lexicon_item,
    refusal_item,
    retention_item,
    threshold,
)
from luban.compliance.config import ComplianceConfig
from luban.core.errors import UsageError
from luban.core.workspace import ENCRYPTED_MARKER, Workspace
from luban.evaluate.safety import balanced, load_bank, score_endpoint, summarize
from luban.guard.crossborder import cross_border_summary
from luban.guard.policy import get_policy

IM, TC, GB = "Interim Measures (2023)", "TC260-003 / GB/T 45654-2025", "GB 45438-2025"


def assess(cfg: ComplianceConfig, ws: Workspace) -> list[Item]:
    items: list[Item] = [_scope(cfg)]
    lin = ev.training_lineage(ws, cfg.models, cfg.datasets)
    items += _data(cfg, ws, lin)
    policy = get_policy(cfg.policy)
    items.append(lexicon_item(*ev.lexicon_terms(policy)))
    items.append(banks_item(ev.bank_counts(load_bank("must_refuse")), ev.bank_counts(load_bank("must_answer"))))
    items.append(_refusal(cfg, ws))
    lab = policy.spec.labeling
    items.append(threshold(Item("gb45438", GB, "4, 5; IM art. 12", "AI-generated content labeled, explicitly and implicitly",
                                evidence=[f"policy '{policy.name}': explicit notice {'on' if lab.explicit else 'OFF'}, "
                                          f"implicit label (header and response field, producer '{lab.producer}') "
                                          f"{'on' if lab.implicit else 'OFF'}"]),
                           lab.explicit and lab.implicit, f"set labeling.explicit and labeling.implicit in policy '{policy.name}'"))
    facts = ev.audit_facts(ws)
    items.append(retention_item(facts.chains, facts.records, facts.oldest, facts.problems))
    items.append(Item("im-14", IM, "art. 14", "Illegal content stopped and recorded",
                      PASS if facts.chains else UNKNOWN,
                      [f"{facts.blocked:,} blocked calls on record (`luban audit query --action blocked`)"]
                      if facts.chains else ["no audit chain"],
                      "" if facts.chains else "turn on the guard and audit hooks"))
    items.append(_cross_border(cfg, ws))
    items += [
        human("im-15", IM, "art. 15", "Complaint channel with published response time", cfg.complaint_channel,
              "set complaint_channel (and complaint_response_days) in compliance.yaml",
              f"{cfg.complaint_channel}, answered within {cfg.complaint_response_days or '?'} days"),
        human("im-9", IM, "art. 9", "Service agreement with users", cfg.service_agreement,
              "publish a service agreement and set service_agreement"),
        human("im-10", IM, "art. 10", "Minors kept from over-reliance", cfg.minors_measures,
              "describe the measures in minors_measures"),
        human("tc260-7", TC, "7", "Users can refuse that their inputs train models", cfg.training_opt_out,
              "offer an opt-out and set training_opt_out: true"),
    ]
    filing = human("im-17", IM, "art. 17", "Security assessment and algorithm filing", cfg.filing_number,
                   "file with the CAC and set filing_number")
    if cfg.public_service is False and not cfg.filing_number:
        filing.status, filing.evidence = PASS, ["not a public service (art. 2): no filing required"]
    items.append(filing)
    return items


def _scope(cfg: ComplianceConfig) -> Item:
    item = Item("im-2", IM, "art. 2", "Whether the Interim Measures apply")
    if cfg.public_service is None:
        item.evidence, item.remedy = ["not stated"], "set public_service: true or false in compliance.yaml"
    else:
        item.status = PASS
        item.evidence = ["offered to the public in mainland China: the Measures apply" if cfg.public_service else
                         "internal service: outside art. 2; TC260-003 still serves as the checklist"]
    return item


def _data(cfg: ComplianceConfig, ws: Workspace, lin: ev.Lineage) -> list[Item]:
    src = Item("tc260-5.1-trace", TC, "5.1; IM art. 7", "Training data sources traceable to raw files")
    harm = Item("tc260-5.1-harm", TC, "5.1", "No source with more than 5% illegal or harmful content")
    pii = Item("tc260-5.2", TC, "5.2; IM art. 7, 11", "Personal information in training data desensitized")
    sample = Item("tc260-9.2", TC, "9.2", "Corpus sample passes the keyword and classifier checks (>= 98%)")
    enc = Item("seed-enc", "Platform security (blueprint)", "-", "Training data encrypted at rest")
    if not lin.datasets:
        for it in (src, harm, pii, sample, enc):
            it.evidence, it.remedy = ["no deployed model or dataset named"], "list the deployed models under models:"
        return [src, harm, pii, sample, enc]
    untraced = ev.untraced(ws, lin.datasets)
    src.evidence = [f"models: {', '.join(lin.models) or '-'}",
                    f"{len(lin.datasets)} datasets, {len(lin.files)} raw files with SHA-256 in lineage"]
    if lin.missing:
        src.evidence.append(f"removed from the workspace: {', '.join(lin.missing[:5])}")
    threshold(src, not untraced, f"datasets without raw sources: {', '.join(untraced)}; curate from files")
    worst: list[str] = []
    scanned = 0
    for art in lin.datasets:
        if "safety" not in ev.operators(art) and art.manifest.producer.stage == "data.curate":
            worst.append(f"{art.name or art.short_id}: no safety operator in its recipe")
        for source, (bad, total) in ev.harmful_share(ws, art).items():
            scanned += total
            if total and bad / total > 0.05:
                worst.append(f"{source}: {bad}/{total} harmful ({100 * bad / total:.1f}%)")
    harm.evidence = [f"{scanned:,} curated records checked per source"] + worst[:10]
    threshold(harm, not worst, "drop the sources listed (or curate with `safety:` in the recipe)")
    no_pii = [a.name or a.short_id for a in lin.datasets
              if a.manifest.producer.stage == "data.curate" and "pii" not in ev.operators(a)]
    pii.evidence = ["pii operator in every curation recipe" if not no_pii else f"no pii operator: {', '.join(no_pii)}"]
    threshold(pii, not no_pii, "add `- pii: {action: mask}` to those recipes and re-curate")
    policy = get_policy(cfg.policy)
    counts: dict[str, int] = {}
    for art in lin.datasets:
        for k, v in ev.scan_sample(policy, ev.sample_texts(ws, art, cfg.corpus_sample)).items():
            counts[k] = counts.get(k, 0) + v
    n = sum(counts.values())
    rate = 1 - counts.get("block", 0) / n if n else 0.0
    sample.evidence = [f"{n:,} sampled records scanned with policy '{cfg.policy}': "
                       + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())),
                       "the manual review of >= 4,000 items (9.2) needs people: record it separately"]
    sample.figures = {"sampled": n, "pass_rate": rate}
    threshold(sample, n > 0 and rate >= 0.98, f"pass rate {100 * rate:.1f}%: remove what the policy blocks, re-curate")
    plain = [a.name or a.short_id for a in lin.datasets if not (a.path / ENCRYPTED_MARKER).is_file()]
    enc.evidence = ["all encrypted" if not plain else f"plaintext: {', '.join(plain[:8])}"]
    threshold(enc, not plain, "luban data encrypt <dataset> (docs/security.md)")
    return [src, harm, pii, sample, enc]


def _refusal(cfg: ComplianceConfig, ws: Workspace) -> Item:
    if cfg.safety_report:
        art = ws.get(cfg.safety_report)
        metrics = json.loads((art.path / "results.json").read_text())["metrics"]
        return refusal_item(metrics, f"safety report {art.name or art.short_id}")
    if cfg.endpoint is None:
        return refusal_item(None, "")
    ep = cfg.endpoint
    key = os.environ.get(ep.api_key_env) if ep.api_key_env else None
    if ep.api_key_env and not key:
        raise UsageError(f"environment variable {ep.api_key_env} is not set", "export an app key of the deployment")
    items = [it for bank in ("must_refuse", "must_answer") for it in balanced(load_bank(bank), cfg.bank_sample)]
    outcomes = asyncio.run(score_endpoint(items, ep.url, ep.model, key))
    return refusal_item(summarize(outcomes)["metrics"], f"{ep.url} ({ep.model}), {len(items)} prompts")


def _cross_border(cfg: ComplianceConfig, ws: Workspace) -> Item:
    s = cross_border_summary(ws.root, cfg.year, cfg.cii_operator)
    item = Item("xborder", "Provisions on cross-border data flows (2024)", "art. 5-8; standard contract",
                "Personal information sent abroad: counts and the regime they call for",
                evidence=[f"{s.year}: {s.individuals:,} individuals' personal information and "
                          f"{s.sensitive_individuals:,} individuals' sensitive personal information sent to overseas "
                          f"upstreams (guard ledger) -> {s.regime.replace('_', ' ')} ({s.basis})"],
                figures={"individuals": s.individuals, "sensitive": s.sensitive_individuals, "regime": s.regime})
    if s.regime == "exempt":
        item.status = PASS
    elif cfg.cross_border_filing:
        item.status = PASS
        item.evidence.append(f"filing: {cfg.cross_border_filing}")
    else:
        item.status = FAIL
        item.remedy = ("sign and file the standard contract with the provincial CAC" if s.regime == "standard_contract"
                       else "apply for the CAC security assessment") + ", then set cross_border_filing"
    return item


def summary(items: list[Item]) -> dict[str, Any]:
    counts = {s: sum(1 for i in items if i.status == s) for s in (PASS, FAIL, UNKNOWN)}
    return {"generated": datetime.now(timezone.utc).isoformat(timespec="seconds"), **counts}
