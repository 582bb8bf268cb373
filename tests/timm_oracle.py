"""timm's GhostNet V1 as an independent oracle: same architecture, same parameter names, separate code."""
import torch
from timm.models.ghostnet import _create_ghostnet
from torch import Tensor, nn

WIDTHS = (0.5, 1.0, 1.1, 1.3)


def timm_ghostnet(width: float, randomise: bool = True) -> nn.Module:
    """timm's GhostNet at ``width`` in eval mode; ``randomise`` draws non-trivial BN statistics and affines."""
    model = _create_ghostnet(f'ghostnet_{round(width * 100):03d}', width=width, pretrained_cfg={}).eval()
    return randomise_batchnorms(model) if randomise else model


def randomise_batchnorms(module: nn.Module) -> nn.Module:
    """Non-trivial BN statistics and affines in every ``BatchNorm2d`` of ``module``; returns it in eval mode."""
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.3, 0.3)
    return module.eval()


def timm_stage_outputs(model: nn.Module, x: Tensor) -> list:
    """Outputs of the stem and of every ``blocks.i``, in order (the 11 stages of the plugin's GhostNet)."""
    x = model.act1(model.bn1(model.conv_stem(x)))
    outs = [x]
    for group in model.blocks:
        x = group(x)
        outs.append(x)
    return outs


def timm_logits_from_features(model: nn.Module, features: Tensor) -> Tensor:
    """timm's classifier head (pool, conv_head, act, flatten, linear) applied to a blocks.9 output."""
    return model.classifier(model.flatten(model.act2(model.conv_head(model.global_pool(features)))))
