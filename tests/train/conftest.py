"""Fixtures of the recipe tests: the tiny model imported into a workspace, a chat and a text dataset."""

from __future__ import annotations

from pathlib import Path

import pytest
from train_fixtures import QA, chat_rows, make_dataset

from luban.core.artifact import Artifact
from luban.core.workspace import Workspace
from luban.models.loading import ImportConfig, import_stage


@pytest.fixture
def base(ws: Workspace, tiny_model_dir: Path) -> Artifact:
    return import_stage(ImportConfig(path=str(tiny_model_dir)), ws, name="base")


@pytest.fixture
def chat_data(ws: Workspace) -> Artifact:
    return make_dataset(ws, "chat", chat_rows())


@pytest.fixture
def text_data(ws: Workspace) -> Artifact:
    return make_dataset(ws, "corpus", [{"text": f"{q} {a}"} for q, a in QA] * 30)
