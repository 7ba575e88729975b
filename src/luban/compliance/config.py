"""compliance.yaml: what the report checks, and the facts only a person can give.

Every fact a person must supply (a filing number, a complaint channel...) is optional here: an item whose
fact is missing is reported as `unknown`, with what to add, never as passed.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from luban.core.config import StageConfig


class Endpoint(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(description="the deployed OpenAI-compatible base URL, e.g. https://llm.acme.cn/v1")
    model: str
    api_key_env: str | None = Field(None, description="environment variable holding an app key for it")


class ComplianceConfig(StageConfig):
    organization: str | None = None
    service: str | None = Field(None, description="the service's name, as filed")
    public_service: bool | None = Field(None, description="offered to the public in mainland China (Interim Measures art. 2)")
    models: list[str] = Field(default_factory=list, description="deployed model artifacts (names or ids)")
    datasets: list[str] = Field(default_factory=list, description="more datasets to check besides the models' lineage")
    policy: str = Field("default", description="the guard policy the deployment runs")
    endpoint: Endpoint | None = Field(None, description="measure refusal rates against the deployed endpoint")
    safety_report: str | None = Field(None, description="or use an evaluate.safety report artifact")
    bank_sample: int | None = Field(None, ge=20, description="prompts per bank sent to the endpoint (all when unset)")
    corpus_sample: int = Field(4000, ge=100, description="training records scanned per dataset (TC260-003 9.2)")
    filing_number: str | None = Field(None, description="algorithm filing / security assessment number (art. 17)")
    complaint_channel: str | None = Field(None, description="where users complain: URL, e-mail or phone (art. 15)")
    complaint_response_days: int | None = Field(None, ge=1, le=60)
    service_agreement: str | None = Field(None, description="URL of the service agreement (art. 9)")
    minors_measures: str | None = Field(None, description="how minors are kept from over-reliance (art. 10)")
    training_opt_out: bool | None = Field(None, description="users can refuse that their inputs train models (TC260-003 7)")
    cross_border_filing: str | None = Field(None, description="standard contract filing or assessment reference")
    cii_operator: bool = Field(False, description="the company operates critical information infrastructure")
    year: int | None = Field(None, description="year of the cross-border counts (default: this year)")
