"""Console API: governance (filled in by its area)."""

from __future__ import annotations

from fastapi import APIRouter

from luban.console.base import Console


def router(console: Console) -> APIRouter:
    return APIRouter()
