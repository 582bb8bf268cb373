"""Deploy mode folds BatchNorm into convs without changing outputs.

Folding changes float32 rounding, not the function: outputs agree within 1e-5 of their largest magnitude (at
least 1e-5 absolute); with Kaiming-initialised weights some backbone outputs reach ~15, where float32 rounding
alone is ~2e-6 per operation.
"""
import pytest
import torch
from mmdet.registry import MODELS
from mmengine.config import Config
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from mmdet_ghostnet import GhostFPN, GhostNet, fuse_for_deploy
from tool_runs import FASTER_RCNN_DEMO, REPO, RETINANET_DEMO, RTMDET_DEMO

TOLERANCE = 1e-5


def randomise_batchnorms(model: nn.Module) -> nn.Module:
    """Non-trivial BN statistics and affines, so that folding them is really exercised."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, _BatchNorm):
                module.running_mean.uniform_(-0.2, 0.2)
                module.running_var.uniform_(0.5, 2.0)
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.2, 0.2)
    return model.eval()


def scaled_difference(a, b) -> float:
    """Largest ``|a - b| / max(1, max|a|)`` over all tensors of two (nested) output structures."""
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and a.shape == b.shape, (a.shape, getattr(b, 'shape', type(b)))
        return (a - b).abs().max().item() / max(1.0, a.abs().max().item())
    assert len(a) == len(b) > 0, (len(a), len(b))
    return max(scaled_difference(x, y) for x, y in zip(a, b))


def count_batchnorms(model: nn.Module) -> int:
    return sum(isinstance(m, _BatchNorm) for m in model.modules())


def assert_fold_keeps_outputs(model: nn.Module, *inputs, channels_last: bool = True) -> None:
    model = randomise_batchnorms(model)
    assert count_batchnorms(model) > 0
    with torch.no_grad():
        expected = model(*inputs)
        fused = fuse_for_deploy(model, channels_last=channels_last)
        assert count_batchnorms(fused) == 0
        assert scaled_difference(fused(*inputs), expected) <= TOLERANCE


def test_backbone():
    model = GhostNet(out_indices=tuple(range(11)))
    model.init_weights()
    assert_fold_keeps_outputs(model, torch.randn(2, 3, 96, 128))
    assert model.conv_stem.weight.is_contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        assert all(out.is_contiguous() for out in model(torch.randn(1, 3, 64, 64)))


def test_backbone_without_channels_last_folds_batchnorm_only():
    model = GhostNet(widen_factor=0.5)
    model.init_weights()
    assert_fold_keeps_outputs(model, torch.randn(2, 3, 64, 96), channels_last=False)
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert all(conv.weight.is_contiguous() for conv in convs)
    assert not model.conv_stem.weight.is_contiguous(memory_format=torch.channels_last)


def test_neck():
    in_channels = [24, 40, 112, 160]
    neck = GhostFPN(in_channels, 64, 5, add_extra_convs='on_input', norm_cfg=dict(type='BN'),
                    act_cfg=dict(type='ReLU'), bottom_up=True)
    neck.init_weights()
    inputs = tuple(torch.randn(2, c, 48 // 2**i, 64 // 2**i) for i, c in enumerate(in_channels))
    assert_fold_keeps_outputs(neck, inputs)


def detector_outputs(detector: nn.Module, images: torch.Tensor):
    """Raw head outputs; for a two-stage detector RPN outputs and RoI-head outputs on fixed boxes."""
    if not hasattr(detector, 'rpn_head'):
        return detector._forward(images)
    features = detector.extract_feat(images)
    rois = torch.tensor([[0, 10., 10., 60., 70.], [1, 30., 20., 120., 90.], [1, 0., 0., 127., 127.]])
    bbox_results = detector.roi_head._bbox_forward(features, rois)
    return (detector.rpn_head(features), bbox_results['cls_score'], bbox_results['bbox_pred'])


# The demo detectors, the BCCD study's peers built on mmdet's backbones, which the study times folded too, and
# RTMDet-tiny (its head shares dense convs across levels, each level with its BatchNorms; the nano demo's shares
# depthwise-separable ones): each BatchNorm must fold into its own level's copy of the conv.
@pytest.mark.parametrize('config', [
    RETINANET_DEMO, FASTER_RCNN_DEMO, RTMDET_DEMO, REPO / 'configs/bccd/retinanet_mobilenetv2_fpn_1xb8-36e_bccd.py',
    REPO / 'configs/bccd/faster-rcnn_r18_fpn_1xb8-36e_bccd.py', REPO / 'configs/bccd/rtmdet-tiny_cspnext_pafpn_1xb8-36e_bccd.py'
])
def test_whole_detectors(config):
    detector = MODELS.build(Config.fromfile(str(config)).model)
    detector.init_weights()
    detector = randomise_batchnorms(detector)
    images = torch.randn(2, 3, 128, 128)
    with torch.no_grad():
        expected = detector_outputs(detector, images)
        fused = fuse_for_deploy(detector)
        assert count_batchnorms(fused) == 0
        assert scaled_difference(detector_outputs(fused, images), expected) <= TOLERANCE
