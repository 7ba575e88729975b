"""TrainArgs -> TRL config: every key reaches TRL or is refused by name; nothing is dropped silently."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from luban.core.errors import ConfigError
from luban.train.args import TrainArgs, checked_kwargs, trl_args


def test_recipe_keys_reach_the_trl_config(tmp_path: Path) -> None:
    from trl import DPOConfig

    args = trl_args(DPOConfig, TrainArgs(lr=1e-4, gradient_checkpointing=True), tmp_path, beta=0.25,
                    loss_type=["ipo"])
    assert args.beta == 0.25 and args.loss_type == ["ipo"] and args.learning_rate == 1e-4


def test_a_key_the_installed_trl_does_not_know_is_an_error_with_the_closest(tmp_path: Path) -> None:
    from trl import DPOConfig

    with pytest.raises(ConfigError, match=r"DPOConfig of the installed TRL .* has no argument 'los_type'.*"
                                          r"did you mean 'loss_type'"):
        trl_args(DPOConfig, TrainArgs(), tmp_path, beta=0.1, los_type=["sigmoid"])
    from trl import SFTConfig

    with pytest.raises(ConfigError, match="SFTConfig .* has no argument 'beta'"):  # beta is not an SFT setting
        trl_args(SFTConfig, TrainArgs(), tmp_path, beta=0.1)


@dataclasses.dataclass
class OldTrainingArguments:  # the shape of a release before transformers 5 renamed gradient checkpointing
    output_dir: str
    gradient_checkpointing: bool = False
    beta: float = 0.1


def test_known_renames_are_translated_and_nothing_else_is_dropped() -> None:
    out = checked_kwargs(OldTrainingArguments, {"output_dir": "x", "activation_checkpointing": True, "beta": 0.2})
    assert out == {"output_dir": "x", "gradient_checkpointing": True, "beta": 0.2}
    with pytest.raises(ConfigError, match="has no argument 'bta'.*did you mean 'beta'"):
        checked_kwargs(OldTrainingArguments, {"output_dir": "x", "bta": 0.2})
