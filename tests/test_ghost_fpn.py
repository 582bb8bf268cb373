import pytest
import torch
from torch import nn

from mmdet_ghostnet import GhostFPN
from timm_oracle import randomise_batchnorms

IN_CHANNELS = [28, 44, 124, 176]
SIZES = [(84, 130), (42, 65), (21, 33), (11, 17)]  # a 333x517 image at strides 4..32


def features(batch=2, channels=IN_CHANNELS):
    return tuple(torch.randn(batch, c, h, w) for c, (h, w) in zip(channels, SIZES))


FPN_SETTINGS = [
    dict(num_outs=4),
    dict(num_outs=5, start_level=1, add_extra_convs='on_input'),
    dict(num_outs=5, start_level=1, add_extra_convs=True),
    dict(num_outs=6, add_extra_convs='on_lateral', relu_before_extra_convs=True),
    dict(num_outs=6, add_extra_convs='on_output', relu_before_extra_convs=True),
    dict(num_outs=6, start_level=1, add_extra_convs=False),
    dict(num_outs=2, start_level=1, end_level=2),
    dict(num_outs=4, upsample_cfg=dict(scale_factor=2, mode='nearest'), end_level=3),
    dict(num_outs=4, norm_cfg=dict(type='BN'), act_cfg=dict(type='ReLU'), no_norm_on_lateral=True),
    dict(num_outs=5, norm_cfg=dict(type='BN'), add_extra_convs='on_lateral'),
    dict(num_outs=5, add_extra_convs='on_input', bottom_up=True),
    dict(num_outs=6, start_level=1, add_extra_convs='on_output', relu_before_extra_convs=True, bottom_up=True,
         norm_cfg=dict(type='BN')),
]


def mmdet_neck_with_ghost_convs(neck: GhostFPN, settings: dict) -> nn.Module:
    """mmdet's ``FPN`` (``PAFPN`` for ``bottom_up``) built with ``settings``, running ``neck``'s 3x3 convs.

    The two must then compute the same function: mmdet's own lateral convs (copied into ``neck`` with a strict
    ``load_state_dict``, so a lateral conv of another structure fails), its top-down path and its choice of
    extra-level inputs, with GhostFPN's Ghost separable convs in place of FPN's dense 3x3 convs.
    """
    from mmdet.models.necks import FPN, PAFPN
    settings = dict(settings)
    if settings.pop('bottom_up', False):
        reference = PAFPN(**settings)
        reference.downsample_convs = neck.downsample_convs
        reference.pafpn_convs = neck.pan_convs
    else:
        reference = FPN(**settings)
    reference.init_weights()
    randomise_batchnorms(reference)
    neck.lateral_convs.load_state_dict(reference.lateral_convs.state_dict())
    reference.fpn_convs = neck.fpn_convs
    return reference.eval()


@pytest.mark.parametrize('settings', FPN_SETTINGS)
def test_outputs_equal_mmdet_fpn_running_the_same_convs(build_from_config, settings):
    """GhostFPN is a drop-in for FPN: same arguments, and the same laterals, top-down (and PAFPN bottom-up)
    path, extra-level sources and ReLUs, so with the same convs its outputs equal mmdet's to float precision."""
    common = dict(in_channels=IN_CHANNELS, out_channels=32, **settings)
    neck = build_from_config(dict(type='GhostFPN', **common))
    assert isinstance(neck, GhostFPN)
    neck.init_weights()
    randomise_batchnorms(neck)
    reference = mmdet_neck_with_ghost_convs(neck, common)
    inputs = features()
    if 'scale_factor' in settings.get('upsample_cfg', {}):  # sizes must then halve exactly
        inputs = tuple(torch.randn(2, c, 80 // 2**i, 128 // 2**i) for i, c in enumerate(IN_CHANNELS))
    with torch.no_grad():
        outs = neck(inputs)
        expected = reference(inputs)
    assert len(outs) == len(expected) == settings['num_outs']
    for level, (out, ref) in enumerate(zip(outs, expected)):
        assert out.shape == ref.shape, level
        torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-5, msg=f'level {level}')


@pytest.mark.parametrize('source', ['on_input', 'on_lateral', 'on_output'])
@pytest.mark.parametrize('bottom_up', [False, True])
def test_first_extra_conv_takes_the_chosen_source(source, bottom_up):
    """'on_input': the last used backbone input; 'on_lateral': its lateral; 'on_output': the last output."""
    neck = GhostFPN(IN_CHANNELS, 16, 6, start_level=1, add_extra_convs=source, bottom_up=bottom_up).eval()
    num_levels = len(neck.lateral_convs)
    seen = []
    neck.fpn_convs[num_levels].register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    inputs = features(batch=1)
    with torch.no_grad():
        outs = neck(inputs)
        expected = dict(on_input=inputs[-1], on_lateral=neck.lateral_convs[-1](inputs[-1]),
                        on_output=outs[num_levels - 1])[source]
    assert len(seen) == 1
    assert torch.equal(seen[0], expected)


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
    (dict(out_channels='16'), ValueError, ["out_channels='16'", 'int > 0']),
    (dict(num_outs=3), ValueError, ['num_outs=3', '>= 4']),
    (dict(num_outs='5'), ValueError, ["num_outs='5'", '>= 4']),
    (dict(start_level=4), ValueError, ['start_level=4', '[0, 3]']),
    (dict(start_level=True), ValueError, ['start_level=True', '[0, 3]']),
    (dict(end_level=5, num_outs=4), ValueError, ['end_level=5']),
    (dict(end_level=True, start_level=1, num_outs=1), ValueError, ['end_level=True', '-1 or an int']),
    (dict(end_level=2, num_outs=5), ValueError, ['num_outs=5', 'must be 3']),
    (dict(add_extra_convs='on_top'), ValueError, ["add_extra_convs='on_top'", 'on_input']),
    (dict(add_extra_convs=1), ValueError, ['add_extra_convs=1', 'a bool or one of']),
    (dict(relu_before_extra_convs='maybe'), TypeError, ["relu_before_extra_convs='maybe'", 'True or False']),
    (dict(no_norm_on_lateral=1), TypeError, ['no_norm_on_lateral=1', 'True or False']),
    (dict(bottom_up='no'), TypeError, ["bottom_up='no'", 'True or False']),
    (dict(conv_cfg='Conv2d'), TypeError, ["conv_cfg='Conv2d'", "a dict with a 'type'"]),
    (dict(norm_cfg=dict(requires_grad=True)), TypeError, ["norm_cfg={'requires_grad': True}", "dict(type='BN')"]),
    (dict(act_cfg='ReLU'), TypeError, ["act_cfg='ReLU'", "dict(type='ReLU')"]),
    (dict(upsample_cfg='nearest'), TypeError, ["upsample_cfg='nearest'", 'dict of F.interpolate']),
    (dict(upsample_cfg=dict(size=(8, 8))), ValueError, ["['size'] are not among its allowed keys", 'scale_factor']),
    (dict(upsample_cfg=dict(mode='cubic')), ValueError, ["mode='cubic'", 'bilinear']),
    (dict(init_cfg='xavier'), TypeError, ["init_cfg='xavier'", 'list of dicts']),
    (dict(init_cfg=[dict(type='Xavier'), dict(layer='Conv2d')]), TypeError, ['init_cfg=[', "with a 'type'"]),
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
