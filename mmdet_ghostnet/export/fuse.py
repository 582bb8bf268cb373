"""Deploy mode: fold GhostNetV3's training branches and every BatchNorm into single convs and store weights
channels-last, for faster inference with the same outputs (up to float32 rounding).

Use it on a backbone, a neck or a whole detector after its weights are loaded::

    from mmdet_ghostnet.export import fuse_for_deploy
    detector = fuse_for_deploy(detector)

or from a config / the command line: ``custom_hooks = [dict(type='FuseConvBNHook')]`` or
``tools/test.py ... --deploy``, which fold the model before testing starts. A folded model is for inference only.
"""
import copy

import torch
from mmcv.cnn import fuse_conv_bn
from mmdet.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from ..models import GhostNet, GhostSepBNHead
from ..models.layers import fold_rep_convs


def fuse_for_deploy(model: nn.Module, channels_last: bool = True) -> nn.Module:
    """Switch ``model`` to eval mode, drop its training-only heads (``GhostSepBNHead``'s guide) and fold each
    BatchNorm that follows a conv into it (in place).

    Modules shared by several parents (the tower convs that RTMDet-style heads share across levels, each level
    with its own BatchNorm) are first copied per parent, so that each BatchNorm folds into its own conv. Then each
    re-parameterised sum of conv + BN branches (``RepConvNorm``, GhostNetV3's training form) becomes
    one conv with bias; then ``y = bn(conv(x))`` becomes one conv with weight ``w * g / sqrt(var + eps)`` and bias
    ``(b - mean) * g / sqrt(var + eps) + beta``; the BatchNorm is replaced by ``nn.Identity``. With
    ``channels_last`` the weights of every ``GhostNet`` inside ``model`` are stored NHWC, so its convolutions take
    oneDNN's channels-last kernels (on CPU much faster for the depthwise convs; see docs/benchmarks.md) whatever
    the input's layout; the backbone still returns NCHW tensors, which mmcv's ops (RoIAlign) require.
    """
    model.eval()
    for module in model.modules():
        if isinstance(module, GhostSepBNHead):
            module.guide = None  # a training-only head
    with torch.no_grad():
        unshare_modules(model)
        fold_rep_convs(model)
        fuse_conv_bn(model)
    if channels_last:
        for module in model.modules():
            if isinstance(module, GhostNet):
                module.to(memory_format=torch.channels_last)
    return model


def unshare_modules(model: nn.Module) -> nn.Module:
    """Give every parent after the first that holds a module its own copy of it (in place), so that changing one
    (folding a BatchNorm into it) changes no other."""
    seen = set()
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if id(child) in seen:
                setattr(parent, name, copy.deepcopy(child))
            else:
                seen.add(id(child))
    return model


@HOOKS.register_module()
class FuseConvBNHook(Hook):
    """Fold training branches and BatchNorms into convs right before testing (after the checkpoint is loaded)."""

    priority = 'VERY_LOW'

    def before_test(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        batchnorms = count_batchnorms(model)
        fuse_for_deploy(model)
        runner.logger.info(f'FuseConvBNHook: folded {batchnorms - count_batchnorms(model)} of {batchnorms} '
                           'BatchNorms into convs (deploy mode)')


def count_batchnorms(model: nn.Module) -> int:
    """Number of BatchNorm layers (of any dimension, SyncBN included) in ``model``."""
    return sum(isinstance(m, _BatchNorm) for m in model.modules())
