import pytest
import torch
from torch import nn

from mmdet_ghostnet import GhostFPN

IN_CHANNELS = [28, 44, 124, 176]
SIZES = [(84, 130), (42, 65), (21, 33), (11, 17)]  # a 333x517 image at strides 4..32


def features(batch=2, channels=IN_CHANNELS):
    return tuple(torch.randn(batch, c, h, w) for c, (h, w) in zip(channels, SIZES))


FPN_SETTINGS = [
    dict(num_outs=4),
    dict(num_outs=5, start_level=1, add_extra_convs='on_input'),
    dict(num_outs=5, start_level=1, add_extra_convs=True),
    dict(num_outs=5, add_extra_convs='on_lateral'),
    dict(num_outs=6, add_extra_convs='on_output', relu_before_extra_convs=True),
    dict(num_outs=6, start_level=1, add_extra_convs=False),
    dict(num_outs=2, start_level=1, end_level=2),
    dict(num_outs=4, upsample_cfg=dict(scale_factor=2, mode='nearest'), end_level=3),
    dict(num_outs=4, norm_cfg=dict(type='BN'), act_cfg=dict(type='ReLU'), no_norm_on_lateral=True),
    dict(num_outs=5, add_extra_convs='on_input', bottom_up=True),
]


@pytest.mark.parametrize('settings', FPN_SETTINGS)
def test_outputs_have_the_shapes_of_mmdet_fpn(build_from_config, settings):
    """GhostFPN is a drop-in for FPN: same arguments, same number and shapes of outputs."""
    from mmdet.models.necks import FPN
    common = dict(in_channels=IN_CHANNELS, out_channels=64, **settings)
    neck = build_from_config(dict(type='GhostFPN', **common))
    assert isinstance(neck, GhostFPN)
    fpn_settings = {k: v for k, v in common.items() if k != 'bottom_up'}
    inputs = features()
    if 'scale_factor' in settings.get('upsample_cfg', {}):  # sizes must then halve exactly
        inputs = tuple(torch.randn(2, c, 80 // 2**i, 128 // 2**i) for i, c in enumerate(IN_CHANNELS))
    with torch.no_grad():
        outs = neck.eval()(inputs)
        expected = FPN(**fpn_settings).eval()(inputs)
    assert [o.shape for o in outs] == [e.shape for e in expected]
    assert all(torch.isfinite(o).all() for o in outs)


def test_neck_trains():
    neck = GhostFPN(IN_CHANNELS, 32, 5, add_extra_convs='on_input', norm_cfg=dict(type='BN'), bottom_up=True)
    neck.init_weights()
    inputs = tuple(x.requires_grad_(True) for x in features())
    sum(o.mean() for o in neck(inputs)).backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in neck.parameters())
    assert all(x.grad is not None for x in inputs)


def test_top_down_path_feeds_lower_levels():
    """A change in the coarsest input must reach every output (the top-down path is wired)."""
    neck = GhostFPN(IN_CHANNELS, 16, 4).eval()
    inputs = features(batch=1)
    changed = inputs[:3] + (inputs[3] + 1, )
    with torch.no_grad():
        for a, b in zip(neck(inputs), neck(changed)):
            assert not torch.allclose(a, b)


def test_bottom_up_path_feeds_higher_levels():
    inputs = features(batch=1)
    changed = (inputs[0] + 1, ) + inputs[1:]
    plain = GhostFPN(IN_CHANNELS, 16, 4, bottom_up=True).eval()
    with torch.no_grad():
        top = plain(inputs)[3], plain(changed)[3]
    assert not torch.allclose(*top)


def test_uses_no_dense_3x3_conv():
    neck = GhostFPN(IN_CHANNELS, 256, 5, start_level=1, add_extra_convs='on_input')
    for module in neck.modules():
        if isinstance(module, nn.Conv2d) and module.kernel_size != (1, 1):
            assert module.groups == module.in_channels


@pytest.mark.parametrize('kwargs, error, words', [
    (dict(in_channels=[]), ValueError, ['in_channels=[]']),
    (dict(in_channels=[28, 0]), ValueError, ['in_channels=[28, 0]']),
    (dict(in_channels=28), ValueError, ['in_channels=28']),
    (dict(out_channels=0), ValueError, ['out_channels=0']),
    (dict(num_outs=3), ValueError, ['num_outs=3', '>= 4']),
    (dict(start_level=4), ValueError, ['start_level=4', '[0, 3]']),
    (dict(end_level=5, num_outs=4), ValueError, ['end_level=5']),
    (dict(end_level=2, num_outs=5), ValueError, ['num_outs=5', 'must be 3']),
    (dict(add_extra_convs='on_top'), ValueError, ["add_extra_convs='on_top'", 'on_input']),
    (dict(upsample_cfg='nearest'), TypeError, ["upsample_cfg='nearest'"]),
])
def test_bad_arguments_are_named(kwargs, error, words):
    settings = dict(in_channels=IN_CHANNELS, out_channels=16, num_outs=4)
    settings.update(kwargs)
    with pytest.raises(error) as info:
        GhostFPN(**settings)
    for word in words:
        assert word in str(info.value)


def test_mismatched_inputs_say_which_channels_fit():
    neck = GhostFPN(IN_CHANNELS, 16, 4)
    with pytest.raises(ValueError, match=r'\[24, 40, 112, 160\]'):
        neck(features(channels=[24, 40, 112, 160]))
    with pytest.raises(ValueError, match='got 3 inputs'):
        neck(features()[:3])
