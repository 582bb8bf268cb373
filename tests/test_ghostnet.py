import math

import pytest
import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from mmdet_ghostnet import GhostNet
from mmdet_ghostnet.models.layers import GhostBottleneck
from timm_oracle import WIDTHS, timm_ghostnet, timm_stage_outputs

# Channels at the ends of the stride 4/8/16/32 levels and of blocks.9, from the GhostNet reference table.
REFERENCE_CHANNELS = {
    0.5: (12, 20, 56, 80, 480),
    1.0: (24, 40, 112, 160, 960),
    1.1: (28, 44, 124, 176, 1056),
    1.3: (32, 52, 144, 208, 1248),
}
ALL_STAGES = tuple(range(GhostNet.num_stages))
STRIDES = (2, 2, 4, 4, 8, 8, 16, 16, 32, 32, 32)


@pytest.mark.parametrize('width', WIDTHS)
def test_default_taps_match_reference_channels(build_from_config, width):
    model = build_from_config(dict(type='GhostNet', widen_factor=width, out_indices=(3, 5, 7, 9, 10)))
    assert isinstance(model, GhostNet)
    assert model.out_channels == REFERENCE_CHANNELS[width]
    assert GhostNet(widen_factor=width).out_channels == REFERENCE_CHANNELS[width][:4]


@pytest.mark.parametrize('width', WIDTHS)
def test_every_stage_shape_on_odd_input_matches_timm(width):
    x = torch.randn(1, 3, 333, 517)
    model = GhostNet(widen_factor=width, out_indices=ALL_STAGES).eval()
    with torch.no_grad():
        outs = model(x)
        expected = timm_stage_outputs(timm_ghostnet(width, randomise=False), x)
    assert len(outs) == len(expected) == len(ALL_STAGES)
    for index, (out, ref) in enumerate(zip(outs, expected)):
        stride = STRIDES[index]
        assert out.shape == ref.shape
        assert out.shape == (1, model.out_channels[index], math.ceil(333 / stride), math.ceil(517 / stride))


@pytest.mark.parametrize('index', ALL_STAGES)
def test_single_out_index_builds_only_what_it_needs(index):
    model = GhostNet(out_indices=(index, ))
    outs = model(torch.randn(2, 3, 64, 96))
    assert len(outs) == 1
    assert outs[0].shape[:2] == (2, model.out_channels[0])
    assert len(model.blocks) == index  # groups after the tap are not built


def test_frozen_stages_stay_frozen_after_train():
    model = GhostNet(frozen_stages=3)
    model.train()
    frozen = [model.conv_stem, model.bn1, *model.blocks[:3]]
    for module in frozen:
        assert all(not p.requires_grad for p in module.parameters())
        assert all(not m.training for m in module.modules())
    for module in model.blocks[3:]:
        assert all(p.requires_grad for p in module.parameters())
        assert all(m.training for m in module.modules())
    before = model.blocks[0][0].ghost1.primary_conv[1].running_mean.clone()
    model(torch.randn(2, 3, 64, 64))
    assert torch.equal(before, model.blocks[0][0].ghost1.primary_conv[1].running_mean)


def test_frozen_stem_only():
    model = GhostNet(frozen_stages=0).train()
    assert not model.conv_stem.weight.requires_grad and not model.bn1.training
    assert model.blocks[0][0].ghost1.primary_conv[0].weight.requires_grad


def test_norm_eval_keeps_batchnorm_statistics():
    model = GhostNet(norm_eval=True).train()
    assert all(not m.training for m in model.modules() if isinstance(m, _BatchNorm))
    assert model.blocks[0].training
    bn = model.blocks[4][0].ghost1.primary_conv[1]
    before = bn.running_mean.clone()
    model(torch.randn(2, 3, 64, 64))
    assert torch.equal(before, bn.running_mean)
    plain = GhostNet(norm_eval=False).train()
    plain.load_state_dict(model.state_dict())
    plain(torch.randn(2, 3, 64, 64))
    assert not torch.equal(before, plain.blocks[4][0].ghost1.primary_conv[1].running_mean)


def forward_backward_record(model: GhostNet, x: torch.Tensor) -> dict:
    """One training step's outputs and gradients, the number of ``ghost1`` forward calls (a checkpointed
    bottleneck runs again during backward) and the bytes of activations autograd keeps for backward."""
    calls, saved_bytes = [], []

    def pack(tensor):
        saved_bytes.append(tensor.numel() * tensor.element_size())
        return tensor

    hooks = [m.ghost1.register_forward_hook(lambda *_: calls.append(1)) for m in model.modules()
             if isinstance(m, GhostBottleneck)]
    inputs = x.clone().requires_grad_(True)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        outs = model(inputs)
    sum(o.square().mean() for o in outs).backward()
    for hook in hooks:
        hook.remove()
    return dict(outs=outs, input_grad=inputs.grad, grads={n: p.grad for n, p in model.named_parameters()},
                ghost1_calls=len(calls), num_bottlenecks=len(hooks), saved_bytes=sum(saved_bytes))


def test_with_cp_recomputes_every_bottleneck_saves_memory_and_keeps_outputs_and_gradients():
    plain = GhostNet(widen_factor=0.5, out_indices=(3, 5, 7, 9, 10)).train()
    checkpointed = GhostNet(widen_factor=0.5, out_indices=(3, 5, 7, 9, 10), with_cp=True).train()
    checkpointed.load_state_dict(plain.state_dict())
    x = torch.randn(2, 3, 96, 64)
    a, b = forward_backward_record(plain, x), forward_backward_record(checkpointed, x)
    assert a['num_bottlenecks'] == b['num_bottlenecks'] == 16
    assert a['ghost1_calls'] == 16 and b['ghost1_calls'] == 2 * 16  # checkpointed: recomputed in backward
    assert b['saved_bytes'] < a['saved_bytes'] / 4
    assert len(a['outs']) == len(b['outs']) == 5
    for out_a, out_b in zip(a['outs'], b['outs']):
        torch.testing.assert_close(out_a, out_b)
    torch.testing.assert_close(a['input_grad'], b['input_grad'])
    assert a['grads'].keys() == b['grads'].keys()
    for name, grad in a['grads'].items():
        assert grad is not None, name
        torch.testing.assert_close(grad, b['grads'][name], msg=name)


@pytest.mark.parametrize('norm_cfg, norm_type', [
    (dict(type='BN'), nn.BatchNorm2d),
    (dict(type='SyncBN'), nn.SyncBatchNorm),
    (dict(type='GN', num_groups=4), nn.GroupNorm),
])
def test_norm_cfg(build_from_config, norm_cfg, norm_type):
    model = build_from_config(dict(type='GhostNet', norm_cfg=norm_cfg))
    norms = [m for m in model.modules() if isinstance(m, (_BatchNorm, nn.GroupNorm))]
    assert norms and all(isinstance(m, norm_type) for m in norms)
    if norm_type is not nn.SyncBatchNorm:  # SyncBN needs a process group to run
        assert len(model.eval()(torch.randn(1, 3, 64, 64))) == 4


def test_act_cfg():
    model = GhostNet(act_cfg=dict(type='HSwish'))
    assert not any(isinstance(m, nn.ReLU) for m in model.modules())
    assert any(isinstance(m, nn.Hardswish) for m in model.modules())  # mmcv builds torch's HSwish


def test_default_init_is_kaiming_and_unit_norms():
    model = GhostNet()
    model.init_weights()
    assert torch.all(model.bn1.weight == 1)
    conv = model.blocks[5][0].ghost1.primary_conv[0]
    fan_out = conv.out_channels * conv.kernel_size[0] * conv.kernel_size[1]
    assert conv.weight.std().item() == pytest.approx(math.sqrt(2 / fan_out), rel=0.2)


@pytest.mark.parametrize('kwargs, error, words', [
    (dict(widen_factor=0), ValueError, ['widen_factor=0', '> 0']),
    (dict(widen_factor=-1.0), ValueError, ['widen_factor=-1.0']),
    (dict(widen_factor='1.0'), ValueError, ["widen_factor='1.0'"]),
    (dict(out_indices=()), ValueError, ['out_indices=()', 'non-empty', '[0, 10]']),
    (dict(out_indices=(3, 11)), ValueError, ['out_indices=(3, 11)', '[0, 10]']),
    (dict(out_indices=(-1, )), ValueError, ['out_indices=(-1,)']),
    (dict(out_indices=(5, 3)), ValueError, ['strictly increasing']),
    (dict(out_indices=3), TypeError, ['out_indices=3']),
    (dict(frozen_stages=11), ValueError, ['frozen_stages=11', '[-1, 10]']),
    (dict(frozen_stages=-2), ValueError, ['frozen_stages=-2']),
])
def test_bad_arguments_are_named(kwargs, error, words):
    with pytest.raises(error) as info:
        GhostNet(**kwargs)
    for word in words:
        assert word in str(info.value)
