"""Loading official / timm GhostNet V1 checkpoints: parity with timm and strict key checking."""
import logging

import pytest
import torch
from mmengine.logging import MMLogger

from mmdet_ghostnet import GhostNet
from mmdet_ghostnet.models.backbones.official_weights import load_official_weights
from timm_oracle import timm_ghostnet, timm_logits_from_features, timm_stage_outputs

ALL_STAGES = tuple(range(GhostNet.num_stages))


def save_timm_checkpoint(tmp_path, width, wrap=None, thop=False, data_parallel=False):
    """A timm GhostNet with random weights and BN statistics, saved as the official release would be: bare, or
    wrapped in ``wrap`` ('state_dict' or 'model'), with thop's entries, with DataParallel's ``module.`` prefix."""
    oracle = timm_ghostnet(width)
    state_dict = dict(oracle.state_dict())
    if thop:
        state_dict.update({'total_ops': torch.tensor([1.0]), 'blocks.0.0.total_params': torch.tensor([2.0])})
    if data_parallel:
        state_dict = {f'module.{key}': value for key, value in state_dict.items()}
    path = tmp_path / f'ghostnet_{width}.pth'
    torch.save({wrap: state_dict} if wrap else state_dict, path)
    return oracle, str(path)


@pytest.mark.parametrize('width, layout', [
    (0.5, {}),
    (1.0, dict(wrap='state_dict')),
    (1.1, dict(wrap='model', data_parallel=True)),  # the paper's detection width
    (1.3, dict(thop=True)),
])
def test_timm_weights_give_identical_features_and_logits(build_from_config, tmp_path, width, layout):
    oracle, path = save_timm_checkpoint(tmp_path, width, **layout)
    model = build_from_config(
        dict(type='GhostNet', widen_factor=width, out_indices=ALL_STAGES,
             init_cfg=dict(type='Pretrained', checkpoint=path)))
    model.init_weights()
    model.eval()
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        outs = model(x)
        expected = timm_stage_outputs(oracle, x)
        logits = timm_logits_from_features(oracle, outs[-1])
        expected_logits = oracle(x)
    assert len(outs) == len(expected) == 11
    for index, (out, ref) in enumerate(zip(outs, expected)):
        assert out.shape == ref.shape, f'stage {index}'
        assert (out - ref).abs().max().item() <= 1e-5, f'stage {index}'
    assert logits.shape == (2, 1000)
    assert (logits - expected_logits).abs().max().item() <= 1e-5


def test_detector_checkpoint_loads_with_prefix(build_from_config, tmp_path):
    oracle, _ = save_timm_checkpoint(tmp_path, 1.0)
    path = tmp_path / 'detector.pth'
    detector_state = {f'backbone.{k}': v for k, v in oracle.state_dict().items()}
    detector_state['neck.lateral_convs.0.conv.weight'] = torch.zeros(1)
    torch.save({'state_dict': detector_state, 'meta': {}}, path)
    model = build_from_config(
        dict(type='GhostNet', init_cfg=dict(type='Pretrained', checkpoint=str(path), prefix='backbone.')))
    model.init_weights()
    torch.testing.assert_close(model.blocks[3][0].se.conv_reduce.weight, oracle.blocks[3][0].se.conv_reduce.weight,
                               rtol=0, atol=0)


def test_wrong_width_is_reported(tmp_path):
    _, path = save_timm_checkpoint(tmp_path, 0.5)
    model = GhostNet(widen_factor=1.0, init_cfg=dict(type='Pretrained', checkpoint=path))
    expected = (r'widen_factor=1\.0.*differ in shape.*'
                r'conv_stem.weight: checkpoint \(8, 3, 3, 3\) vs model \(16, 3, 3, 3\)')
    with pytest.raises(ValueError, match=expected):
        model.init_weights()


def test_missing_and_unexpected_keys_are_listed(tmp_path):
    oracle = timm_ghostnet(1.0)
    state_dict = dict(oracle.state_dict())
    del state_dict['blocks.2.0.ghost1.primary_conv.0.weight']
    state_dict['blocks.2.0.extra.weight'] = torch.zeros(1)
    path = tmp_path / 'broken.pth'
    torch.save(state_dict, path)
    model = GhostNet(init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    with pytest.raises(ValueError) as info:
        model.init_weights()
    assert 'blocks.2.0.ghost1.primary_conv.0.weight' in str(info.value)
    assert 'blocks.2.0.extra.weight' in str(info.value)
    # refused before anything is loaded: the model keeps its weights
    model = GhostNet(init_cfg=None)
    before = {key: value.clone() for key, value in model.state_dict().items()}
    with pytest.raises(ValueError, match='missing keys'):
        load_official_weights(model, str(path))
    assert all(torch.equal(value, before[key]) for key, value in model.state_dict().items())


def test_missing_prefix_is_reported(tmp_path):
    _, path = save_timm_checkpoint(tmp_path, 1.0)
    model = GhostNet(init_cfg=dict(type='Pretrained', checkpoint=path, prefix='backbone.'))
    with pytest.raises(ValueError, match="prefix='backbone.' matches no key"):
        model.init_weights()


@pytest.mark.parametrize('wrap', ['state_dict', 'model', None])
def test_data_parallel_prefix_is_stripped_in_any_wrapper(tmp_path, wrap):
    oracle, path = save_timm_checkpoint(tmp_path, 0.5, wrap=wrap, data_parallel=True)
    model = GhostNet(widen_factor=0.5, init_cfg=dict(type='Pretrained', checkpoint=path))
    model.init_weights()
    state_dict = model.state_dict()
    assert state_dict.keys() <= oracle.state_dict().keys()
    for key, value in state_dict.items():
        assert torch.equal(value, oracle.state_dict()[key]), key


def test_pretrained_without_checkpoint_warns_and_falls_back_to_default_init():
    model = GhostNet(init_cfg=dict(type='Pretrained', checkpoint=None))
    with torch.no_grad():
        model.bn1.weight.fill_(3.0)
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    try:
        model.init_weights()
    finally:
        logger.removeHandler(handler)
    assert torch.all(model.bn1.weight == 1)
    assert model.init_cfg == dict(type='Pretrained', checkpoint=None)
    warnings = [r.getMessage() for r in records if r.levelno == logging.WARNING]
    assert any('training from scratch' in message for message in warnings), warnings
