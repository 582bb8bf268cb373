"""GhostNetV2 and GhostNetV3: parity with timm, checkpoints, deploy folding, cost against the papers, configs, tools."""
import math
import pickle

import pytest
import torch
from mmdet.registry import MODELS
from mmengine.analysis import parameter_count
from mmengine.config import Config
from timm.models import reparameterize_model
from torch.nn.modules.batchnorm import _BatchNorm

from mmdet_ghostnet import GhostNet, GhostNetV2, GhostNetV3, fuse_for_deploy
from mmdet_ghostnet.models.layers import RepConvNorm
from test_complexity import ImageNetClassifier, multiply_adds
from test_deploy import assert_fold_keeps_outputs, randomise_batchnorms
from timm_oracle import timm_ghostnet
from timm_oracle_v2_v3 import TIMM_WIDTHS, differences_to_timm, official_v3_state_dict, timm_ghostnet_version
from tool_runs import REPO, RETINANET_DEMO, run, scalars, tiny_run_options

BACKBONES = {'v2': GhostNetV2, 'v3': GhostNetV3}
TIMM_MODELS = [(version, width) for version, widths in TIMM_WIDTHS.items() for width in widths]
ALL_STAGES = tuple(range(GhostNet.num_stages))


def save(tmp_path, state_dict, name='checkpoint.pth', wrap=False) -> str:
    path = tmp_path / name
    torch.save({'state_dict': state_dict} if wrap else state_dict, path)
    return str(path)


@pytest.mark.parametrize('version, width', TIMM_MODELS, ids=lambda v: str(v))
def test_timm_weights_give_identical_stages_and_logits(build_from_config, tmp_path, version, width):
    """Every stage and the logits equal timm's on an odd input; V3 1.0x in the official release's layout."""
    oracle = timm_ghostnet_version(version, width)
    official_layout = version == 'v3' and width == 1.0
    state_dict = official_v3_state_dict(oracle) if official_layout else oracle.state_dict()
    path = save(tmp_path, state_dict, wrap=official_layout or width == 1.3)
    model = build_from_config(
        dict(type=BACKBONES[version].__name__, widen_factor=width, out_indices=ALL_STAGES,
             init_cfg=dict(type='Pretrained', checkpoint=path)))
    assert type(model) is BACKBONES[version]
    model.init_weights()
    differences = differences_to_timm(model.eval(), oracle, torch.randn(1, 3, 161, 225))
    assert max(differences) <= 1e-5, differences


@pytest.mark.parametrize('backbone', [GhostNetV2, GhostNetV3])
def test_taps_and_channels_are_those_of_ghostnet(backbone):
    for width in (0.5, 1.0, 1.6):
        assert backbone(widen_factor=width).out_channels == GhostNet(widen_factor=width).out_channels
    model = backbone(widen_factor=0.5, out_indices=(0, 4, 10)).eval()
    outs = model(torch.randn(1, 3, 97, 65))
    assert [tuple(o.shape[1:]) for o in outs] == [(8, 49, 33), (20, 13, 9), (480, 4, 3)]


def test_dfc_attention_starts_at_the_third_bottleneck():
    model = GhostNetV2()
    flat = [block for group in model.blocks for block in group]
    assert [block.ghost1.short_conv is not None for block in flat[:3]] == [False, False, True]
    assert all(block.ghost1.short_conv is not None for block in flat[2:])
    assert all(block.ghost2.short_conv is None for block in flat)
    assert not any('short_conv' in key for key in GhostNet().state_dict())


def test_wrong_width_is_reported(tmp_path):
    path = save(tmp_path, timm_ghostnet_version('v2', 1.3).state_dict())
    model = GhostNetV2(widen_factor=1.0, init_cfg=dict(type='Pretrained', checkpoint=path))
    with pytest.raises(ValueError, match=r'GhostNetV2\(widen_factor=1\.0\).*differ in shape.*conv_stem\.weight'):
        model.init_weights()


@pytest.mark.parametrize('checkpoint_version, backbone, listed_key, words', [
    ('v1', GhostNetV2, 'blocks.2.0.ghost1.short_conv.0.weight', 'looks like GhostNet (V1)'),
    ('v2', GhostNet, 'blocks.2.0.ghost1.short_conv.0.weight', 'looks like GhostNetV2'),
    ('v3', GhostNetV2, 'blocks.0.0.ghost1.primary_conv.0.rpr_conv.0.conv.weight', 'looks like GhostNetV3'),
    ('v2', GhostNetV3, 'blocks.0.0.ghost1.primary_conv.0.rpr_conv.0.conv.weight', 'looks like GhostNetV2'),
])
def test_wrong_version_is_refused_with_the_keys(tmp_path, checkpoint_version, backbone, listed_key, words):
    oracle = timm_ghostnet(1.0) if checkpoint_version == 'v1' else timm_ghostnet_version(checkpoint_version, 1.0)
    model = backbone(init_cfg=dict(type='Pretrained', checkpoint=save(tmp_path, oracle.state_dict())))
    with pytest.raises(ValueError) as info:
        model.init_weights()
    assert listed_key in str(info.value)
    assert words in str(info.value)


def test_v3_fold_keeps_outputs_and_gives_the_v2_network():
    """Folding keeps every stage (BN folding's tolerance) and leaves exactly the folded V2 network.

    PyTorch's default conv init, as in the official and timm models: with Kaiming-initialised branches (5 summed per
    conv) and statistics never fitted to data, activations reach ~1e8 and float32 rounding alone breaks any bound.
    """
    v3 = GhostNetV3(out_indices=ALL_STAGES)
    assert any(isinstance(m, RepConvNorm) for m in v3.modules())
    assert_fold_keeps_outputs(v3, torch.randn(2, 3, 97, 131))
    assert not any(isinstance(m, RepConvNorm) for m in v3.modules())
    v2 = fuse_for_deploy(GhostNetV2(out_indices=ALL_STAGES))
    assert {k: v.shape for k, v in v3.state_dict().items()} == {k: v.shape for k, v in v2.state_dict().items()}
    x = torch.randn(1, 3, 224, 224)
    assert multiply_adds(v3, x) == multiply_adds(v2, x)


def test_v3_fold_matches_timm_reparameterisation(tmp_path):
    """Our fold of timm's weights equals timm's own ``reparameterize_model`` (a second, independent fold)."""
    oracle = timm_ghostnet_version('v3', 0.5)
    model = GhostNetV3(widen_factor=0.5, out_indices=(10, ),
                       init_cfg=dict(type='Pretrained', checkpoint=save(tmp_path, oracle.state_dict())))
    model.init_weights()
    fuse_for_deploy(model)
    reparameterize_model(oracle, inplace=True)
    x = torch.randn(1, 3, 97, 129)
    with torch.no_grad():
        torch.testing.assert_close(model(x)[0], oracle.forward_features(x), rtol=1e-5, atol=1e-5)


def test_v3_trains_its_branches_and_keeps_frozen_and_norm_eval():
    model = GhostNetV3(widen_factor=0.5, frozen_stages=2, norm_eval=True).train()
    stem_and_first = [model.conv_stem, model.bn1, *model.blocks[:2]]
    assert all(not p.requires_grad for m in stem_and_first for p in m.parameters())
    assert all(not m.training for m in model.modules() if isinstance(m, _BatchNorm))
    branch = model.blocks[4][0].ghost1.cheap_operation[0]
    assert isinstance(branch, RepConvNorm) and branch.rpr_skip is not None and branch.rpr_scale is not None
    sum(o.square().mean() for o in model(torch.randn(2, 3, 64, 64))).backward()
    assert all(b.conv.weight.grad.abs().sum() > 0 for b in branch.rpr_conv)


@pytest.mark.parametrize('backbone', [GhostNetV2, GhostNetV3])
def test_with_cp_gives_same_outputs_and_gradients(backbone):
    plain = backbone(widen_factor=0.5, out_indices=(5, 9)).train()
    checkpointed = backbone(widen_factor=0.5, out_indices=(5, 9), with_cp=True).train()
    checkpointed.load_state_dict(plain.state_dict())
    x = torch.randn(2, 3, 64, 96)
    grads = []
    for model in (plain, checkpointed):
        sum(o.square().mean() for o in model(x)).backward()
        grads.append({name: p.grad for name, p in model.named_parameters()})
    for name, grad in grads[0].items():
        torch.testing.assert_close(grads[1][name], grad, msg=name)


@pytest.mark.parametrize('backbone', [GhostNetV2, GhostNetV3])
@pytest.mark.parametrize('kwargs, error, words', [
    (dict(widen_factor=0), ValueError, 'widen_factor=0'),
    (dict(out_indices=(3, 11)), ValueError, '[0, 10]'),
    (dict(out_indices=3), TypeError, 'out_indices=3'),
    (dict(frozen_stages=11), ValueError, 'frozen_stages=11'),
])
def test_bad_arguments_are_named(build_from_config, backbone, kwargs, error, words):
    with pytest.raises(error) as info:
        build_from_config(dict(type=backbone.__name__, **kwargs))
    assert words in str(info.value)


@pytest.mark.parametrize('in_channels, out_channels, kernel_size, stride, groups', [
    (6, 6, 3, 1, 1),  # dense, with the identity branch
    (6, 6, 3, 1, 3),  # grouped identity
    (6, 12, 5, 2, 6),  # depthwise multiplier 2, stride 2: no identity
    (4, 8, 1, 1, 1),  # 1x1: no scale branch
])
def test_rep_conv_norm_fold_equals_its_branches(in_channels, out_channels, kernel_size, stride, groups):
    module = randomise_batchnorms(RepConvNorm(in_channels, out_channels, kernel_size, stride, groups, num_branches=2))
    assert (module.rpr_skip is not None) == (in_channels == out_channels and stride == 1)
    assert (module.rpr_scale is not None) == (kernel_size > 1)
    x = torch.randn(2, in_channels, 13, 10)
    with torch.no_grad():
        torch.testing.assert_close(module.fold()(x), module(x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('kwargs, words', [
    (dict(num_branches=0), 'num_branches=0'),
    (dict(kernel_size=2), 'kernel_size=2'),
    (dict(norm_cfg=None), 'norm_cfg=None'),
])
def test_rep_conv_norm_rejects_bad_arguments(kwargs, words):
    with pytest.raises(ValueError) as info:
        RepConvNorm(**{**dict(in_channels=4, out_channels=4, kernel_size=3), **kwargs})
    assert words in str(info.value)


def test_fold_needs_batchnorm():
    model = GhostNetV3(widen_factor=0.5, out_indices=(2, ), norm_cfg=dict(type='GN', num_groups=2))
    with pytest.raises(TypeError, match='cannot fold a GroupNorm'):
        fuse_for_deploy(model)


# ImageNet cost at 224x224 with the classifier head (multiply-adds of convs + linear, params).
# V2: the GhostNetV2 paper's table. V3: 269M at 1.3x from its abstract; 1.0x 6.1M / 0.17G and 1.6x 12.3M / 0.40G
# from its ImageNet table as reproduced in the iFormer paper (Table 3), all for the folded (inference) network.
PAPER_COST = {
    ('v2', 1.0): (167e6, 6.1e6), ('v2', 1.3): (269e6, 8.9e6), ('v2', 1.6): (399e6, 12.3e6),
    ('v3', 1.0): (170e6, 6.1e6), ('v3', 1.3): (269e6, 8.9e6), ('v3', 1.6): (400e6, 12.3e6),
}


@pytest.mark.parametrize('version, width', TIMM_MODELS, ids=lambda v: str(v))
def test_imagenet_cost_matches_paper(version, width):
    x = torch.randn(1, 3, 224, 224)
    model = fuse_for_deploy(ImageNetClassifier(width, BACKBONES[version]), channels_last=False)
    flops, params = multiply_adds(model, x), parameter_count(model)['']
    if (version, width) in PAPER_COST:
        paper_flops, paper_params = PAPER_COST[version, width]
    else:  # GhostNetV3 0.5x: no paper figure found; timm's own fold, counted the same way, is the reference
        oracle = reparameterize_model(timm_ghostnet_version(version, width, randomise=False))
        paper_flops, paper_params = multiply_adds(oracle, x), parameter_count(oracle)['']
    assert flops == pytest.approx(paper_flops, rel=0.03)
    assert params == pytest.approx(paper_params, rel=0.03)


V1_TO_V2_V3 = [
    ('retinanet_ghostnet-1.0x_ghostfpn_8xb2-1x_coco.py', 'retinanet_ghostnetv2-1.0x_ghostfpn_8xb2-1x_coco.py', 'GhostNetV2'),
    ('retinanet_ghostnet-1.0x_ghostfpn_8xb2-1x_coco.py', 'retinanet_ghostnetv3-1.0x_ghostfpn_8xb2-1x_coco.py', 'GhostNetV3'),
    ('faster-rcnn_ghostnet-1.0x_ghostfpn_8xb2-1x_coco.py', 'faster-rcnn_ghostnetv2-1.0x_ghostfpn_8xb2-1x_coco.py', 'GhostNetV2'),
    ('faster-rcnn_ghostnet-1.0x_ghostfpn_8xb2-1x_coco.py', 'faster-rcnn_ghostnetv3-1.0x_ghostfpn_8xb2-1x_coco.py', 'GhostNetV3'),
]


@pytest.mark.parametrize('v1_name, name, backbone_type', V1_TO_V2_V3)
def test_coco_configs_switch_only_the_backbone_type_and_its_weights(v1_name, name, backbone_type):
    v1, cfg = Config.fromfile(REPO / 'configs' / v1_name), Config.fromfile(REPO / 'configs' / name)
    assert cfg.model.backbone.pop('type') == backbone_type and v1.model.backbone.pop('type') == 'GhostNet'
    assert cfg.model.backbone.pop('init_cfg').checkpoint.endswith(
        {'GhostNetV2': '/ck_ghostnetv2_10.pth.tar', 'GhostNetV3': '/ghostnetv3-1.0.pth.tar'}[backbone_type])
    assert v1.model.backbone.pop('init_cfg').checkpoint.endswith('/ghostnet_1x.pth')
    assert cfg.model == v1.model and cfg.train_cfg == v1.train_cfg and cfg.optim_wrapper == v1.optim_wrapper
    assert cfg.train_dataloader.dataset.data_root == 'data/coco/'
    cfg.model.backbone.type = backbone_type
    detector = MODELS.build(cfg.model)
    assert type(detector.backbone).__name__ == backbone_type
    assert list(detector.neck.in_channels) == list(detector.backbone.out_channels)


def test_v3_detector_trains_with_branches_and_tests_folded(tiny_data, tmp_path):
    """RetinaNet demo with a GhostNetV3 backbone: tools/train.py, then tools/test.py with and without --deploy."""
    options = tiny_run_options(tiny_data, 'model.test_cfg.score_thr') + ['model.backbone.type=GhostNetV3']
    run(REPO / 'tools' / 'train.py', RETINANET_DEMO, '--work-dir', tmp_path, '--cfg-options', *options)
    losses = [r['loss'] for r in scalars(tmp_path) if 'loss' in r]
    assert len(losses) == 4 and all(math.isfinite(loss) for loss in losses)
    checkpoint = torch.load(tmp_path / 'epoch_1.pth', weights_only=True)['state_dict']
    assert 'backbone.blocks.1.0.conv_dw.rpr_conv.2.conv.weight' in checkpoint
    metrics, top_scores = [], []
    for extra in ([], ['--deploy']):
        out = tmp_path / f'predictions{len(metrics)}.pkl'
        result = run(REPO / 'tools' / 'test.py', RETINANET_DEMO, tmp_path / 'epoch_1.pth', '--work-dir', tmp_path,
                     '--out', out, *extra, '--cfg-options', *options)
        metrics.append([line for line in result.stdout.splitlines() if line.startswith('metrics:')])
        with open(out, 'rb') as f:
            top_scores.append(torch.stack([p['pred_instances']['scores'].max() for p in pickle.load(f)]))
    assert metrics[0] and metrics[0] == metrics[1]
    torch.testing.assert_close(top_scores[1], top_scores[0], rtol=1e-4, atol=1e-5)
