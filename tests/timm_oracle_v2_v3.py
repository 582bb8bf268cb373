"""timm's GhostNetV2 / GhostNetV3 as independent oracles (``ghostnetv2_*``, ``ghostnetv3_*``, built offline).

timm's stage layout equals GhostNet V1's, so ``timm_oracle.timm_stage_outputs`` and ``timm_logits_from_features``
apply to them unchanged.
"""
from timm.models.ghostnet import _create_ghostnet
from torch import nn

from test_deploy import randomise_batchnorms

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
