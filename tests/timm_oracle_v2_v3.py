"""timm's GhostNetV2 / GhostNetV3 as independent oracles (``ghostnetv2_*``, ``ghostnetv3_*``, built offline).

timm's stage layout equals GhostNet V1's, so ``timm_oracle.timm_stage_outputs`` and ``timm_logits_from_features``
apply to them unchanged.
"""
import math
from typing import List

import torch
from timm.models.ghostnet import _create_ghostnet
from torch import Tensor, nn

from test_deploy import randomise_batchnorms
from timm_oracle import timm_logits_from_features, timm_stage_outputs

# The widths timm registers for each version.
TIMM_WIDTHS = {'v2': (1.0, 1.3, 1.6), 'v3': (0.5, 1.0, 1.3, 1.6)}


def timm_ghostnet_version(version: str, width: float, randomise: bool = True) -> nn.Module:
    """timm's ``ghostnet{version}_{width}`` in eval mode; ``randomise`` draws non-trivial BN statistics/affines."""
    model = _create_ghostnet(f'ghostnet{version}_{round(width * 100):03d}', width=width, version=version,
                             pretrained_cfg={}).eval()
    return randomise_batchnorms(model) if randomise else model


def official_v3_state_dict(timm_model: nn.Module) -> dict:
    """A timm GhostNetV3 state dict under the official release's names (``bn.`` in the branches, not ``bn1.``)."""
    return {
        key.replace('.bn1.', '.bn.') if '_rpr_' in key else key: value
        for key, value in timm_model.state_dict().items()
    }


def differences_to_timm(model: nn.Module, oracle: nn.Module, x: Tensor) -> List[float]:
    """Largest absolute difference to timm of each stage of ``model`` (built with all 11 stages), then of the
    logits (timm's head on ``model``'s blocks.9 against timm's whole forward); ``inf`` where shapes differ."""
    with torch.no_grad():
        ours = list(model(x))
        ours.append(timm_logits_from_features(oracle, ours[-1]))
        theirs = [*timm_stage_outputs(oracle, x), oracle(x)]
    assert len(ours) == len(theirs) == 12
    return [(a - b).abs().max().item() if a.shape == b.shape else math.inf for a, b in zip(ours, theirs)]
