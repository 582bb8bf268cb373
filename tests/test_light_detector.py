"""The light GhostNet detector: GhostSepBNHead (towers shared across levels, BatchNorm per level, dense /
depthwise-separable / Ghost convs), its configs, and their costs against the budgets of the detectors they are
sized like (NanoDet-Plus-m 1.52 G multiply-adds at 416x416, RTMDet-tiny 8.0 G at 640x640)."""
from pathlib import Path

import mmdet
import pytest
import torch
from mmdet.models.dense_heads import RTMDetSepBNHead
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmengine.config import Config
from mmengine.structures import InstanceData
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from mmdet_ghostnet import GhostSepBNHead, fuse_for_deploy
from mmdet_ghostnet.benchmark.measure import Settings, measure_cost
from mmdet_ghostnet.benchmark.models import SPECS_BY_NAME
from tool_runs import REPO

HEAD = dict(num_classes=3, in_channels=16, feat_channels=16, stacked_convs=2, norm_cfg=dict(type='BN'),
            act_cfg=dict(type='ReLU'), anchor_generator=dict(type='MlvlPointGenerator', offset=0, strides=[8, 16, 32]),
            bbox_coder=dict(type='DistancePointBBoxCoder'),
            loss_cls=dict(type='QualityFocalLoss', use_sigmoid=True, beta=2.0, loss_weight=1.0),
            loss_bbox=dict(type='GIoULoss', loss_weight=2.0))
FEATS = [torch.randn(2, 16, 16 // 2**level, 20 // 2**level) for level in range(3)]


def level_modules(head: nn.Module, level: int, kind: type) -> list:
    """The ``kind`` modules of both towers of ``level``, in order."""
    return [m for towers in (head.cls_convs, head.reg_convs) for m in towers[level].modules() if isinstance(m, kind)]


@pytest.mark.parametrize('conv_type', ['dense', 'depthwise', 'ghost'])
def test_levels_share_every_conv_and_keep_their_own_batchnorms(conv_type):
    head = GhostSepBNHead(conv_type=conv_type, **HEAD)
    first_convs = level_modules(head, 0, nn.Conv2d)
    first_norms = level_modules(head, 0, _BatchNorm)
    assert len(first_convs) == {'dense': 4, 'depthwise': 8, 'ghost': 12}[conv_type]  # 2 towers x 2 convs
    for level in (1, 2):
        assert all(a is b for a, b in zip(level_modules(head, level, nn.Conv2d), first_convs))
        assert not {id(m) for m in level_modules(head, level, _BatchNorm)} & {id(m) for m in first_norms}
    cls_scores, bbox_preds = head(FEATS)
    assert [tuple(s.shape) for s in cls_scores] == [(2, 3, 16, 20), (2, 3, 8, 10), (2, 3, 4, 5)]
    assert [tuple(b.shape) for b in bbox_preds] == [(2, 4, 16, 20), (2, 4, 8, 10), (2, 4, 4, 5)]


def test_dense_towers_compute_mmdetection_rtmdet_head():
    """conv_type='dense' is RTMDetSepBNHead: with its weights, the same outputs (an independent oracle)."""
    reference = RTMDetSepBNHead(**HEAD).eval()
    head = GhostSepBNHead(conv_type='dense', **HEAD).eval()
    head.load_state_dict(reference.state_dict(), strict=True)
    with torch.no_grad():
        for ours, theirs in zip(sum(head(FEATS), ()), sum(reference(FEATS), ())):
            torch.testing.assert_close(ours, theirs, rtol=0, atol=0)


def test_depthwise_towers_are_cheaper_than_dense_and_ghost_cheapest():
    params = {kind: sum(p.numel() for p in GhostSepBNHead(conv_type=kind, **dict(HEAD, in_channels=96, feat_channels=96))
                        .cls_convs.parameters()) for kind in ('dense', 'depthwise', 'ghost')}
    assert params['ghost'] < params['depthwise'] < params['dense'] / 5


def test_bad_conv_type_and_mmdetection_use_depthwise_are_refused_by_name():
    with pytest.raises(ValueError, match=r"conv_type='separable' is invalid: it must be one of \('dense', "
                                         r"'depthwise', 'ghost'\)"):
        GhostSepBNHead(conv_type='separable', **HEAD)
    with pytest.raises(TypeError, match="has no use_depthwise: set conv_type='depthwise'"):
        GhostSepBNHead(use_depthwise=True, **HEAD)


TRAIN_CFG = dict(assigner=dict(type='DynamicSoftLabelAssigner', topk=13), allowed_border=-1, pos_weight=-1)


def two_images_of_boxes() -> list:
    """Two samples of 128 x 160 with a small and a large box each."""
    samples = []
    for boxes in ([[10., 10., 40., 40.], [60., 50., 120., 110.]], [[90., 20., 110., 45.], [5., 60., 70., 125.]]):
        sample = DetDataSample(metainfo=dict(img_shape=(128, 160), pad_shape=(128, 160), batch_input_shape=(128, 160)))
        sample.gt_instances = InstanceData(bboxes=torch.tensor(boxes), labels=torch.tensor([2, 1]))
        samples.append(sample)
    return samples


def guided_head(guide) -> GhostSepBNHead:
    head = GhostSepBNHead(conv_type='depthwise', guide=guide, train_cfg=Config(TRAIN_CFG), **HEAD)
    head.init_weights()
    return head


def test_a_guide_equal_to_its_head_gives_the_losses_of_the_head_trained_alone():
    """The oracle: RTMDetHead's own loss path, in which the head's predictions pick its targets."""
    alone = guided_head(guide=None)
    guided = guided_head(guide=dict())
    weights = alone.state_dict()
    guided.load_state_dict({**weights, **{f'guide.{key}': value for key, value in weights.items()}})
    expected, losses = alone.loss(FEATS, two_images_of_boxes()), guided.loss(FEATS, two_images_of_boxes())
    assert set(losses) == {'loss_cls', 'loss_bbox', 'guide_loss_cls', 'guide_loss_bbox'}
    for name in ('loss_cls', 'loss_bbox'):
        assert sum(expected[name]) > 0
        for prefix in ('', 'guide_'):
            torch.testing.assert_close(torch.stack(losses[prefix + name]), torch.stack(expected[name]))


def test_the_guide_picks_the_targets_and_learns_them_and_only_the_head_predicts():
    head = guided_head(guide=dict(conv_type='dense', feat_channels=32))
    assert (head.guide.conv_type, head.guide.feat_channels, head.guide.guide) == ('dense', 32, None)
    before = head.loss(FEATS, two_images_of_boxes())
    with torch.no_grad():  # the guide's boxes grow by a stride a side: their IoUs, the head's soft targets, change
        for conv in head.guide.rtm_reg:
            conv.bias.add_(1.0)
    after = head.loss(FEATS, two_images_of_boxes())
    for name in ('loss_cls', 'loss_bbox'):
        assert not torch.allclose(torch.stack(before[name]), torch.stack(after[name]))
    sum(sum(parts) for parts in after.values()).backward()
    assert all(p.grad is not None for p in head.guide.parameters())
    head.eval()
    with torch.no_grad():
        outputs = head(FEATS)
        fuse_for_deploy(head)
        assert head.guide is None
        for folded, built in zip(sum(head(FEATS), ()), sum(outputs, ())):
            torch.testing.assert_close(folded, built, rtol=1e-4, atol=1e-4)


def test_a_guide_that_sets_more_than_its_towers_is_refused_by_name():
    with pytest.raises(ValueError, match=r"guide=\{'num_classes': 4\} is invalid: a guide may set only "
                                         r"\['conv_type', 'feat_channels', 'stacked_convs'\]"):
        guided_head(guide=dict(num_classes=4))


# The BCCD light rows: the nano (alone and trained with a guide) and MMDetection's three peers.
LIGHT_ROWS = ['rtmdet-nano_ghostnet-1.0x_ghostpan_1xb8-36e_bccd', 'rtmdet-nano_ghostnet-1.0x_ghostpan_guided-1xb2-36e_bccd',
              'rtmdet-tiny_cspnext_pafpn_1xb8-36e_bccd',
              'yolox-tiny_cspdarknet_pafpn_1xb8-36e_bccd', 'ssdlite_mobilenetv2_ssdneck_1xb8-36e_bccd']


@pytest.mark.parametrize('name', LIGHT_ROWS)
def test_bccd_light_rows_train_one_step_with_finite_losses_and_predict(name):
    """One training step, then a prediction as validation makes it (mmdet 3.3's own SSDHead fails there)."""
    cfg = Config.fromfile(str(REPO / 'configs' / 'bccd' / f'{name}.py'))
    detector = MODELS.build(cfg.model)
    detector.init_weights()
    sample = DetDataSample(metainfo=dict(img_shape=(128, 160), pad_shape=(128, 160), batch_input_shape=(128, 160)))
    sample.gt_instances = InstanceData(bboxes=torch.tensor([[10., 20., 60., 70.], [80., 30., 150., 110.]]),
                                       labels=torch.tensor([0, 1]))
    losses = detector.loss(torch.randn(2, 3, 128, 160), [sample, sample])  # 2: SSD's last level is 1 x 1
    parts = [part for loss in losses.values() for part in (loss if isinstance(loss, list) else [loss])]
    assert {'loss_cls', 'loss_bbox'} <= set(losses) and all(torch.isfinite(part).all() for part in parts)
    total = sum(part.sum() for part in parts)  # dense heads give one loss per level
    assert total > 0
    total.backward()
    assert all(p.grad is not None for p in detector.backbone.parameters() if p.requires_grad)
    detector.eval()
    with torch.no_grad():
        predictions = detector.predict(torch.randn(1, 3, 128, 160), [sample], rescale=False)
    boxes = predictions[0].pred_instances.bboxes
    assert boxes.shape[1:] == (4, ) and torch.isfinite(boxes).all()


@pytest.mark.parametrize('name', LIGHT_ROWS)
def test_bccd_light_rows_take_the_study_scales_through_their_data_preprocessor(name):
    """432 x 576, one of the study's training scales, is not a multiple of 32: the preprocessor pads it so that the
    neck's upsampled levels fit (mmdet's RTMDet config does not pad: its pipeline pads to 640 x 640)."""
    cfg = Config.fromfile(str(REPO / 'configs' / 'bccd' / f'{name}.py'))
    detector = MODELS.build(cfg.model)
    sample = DetDataSample(metainfo=dict(img_shape=(432, 576)))
    data = detector.data_preprocessor(dict(inputs=[torch.randint(0, 255, (3, 432, 576), dtype=torch.uint8)],
                                           data_samples=[sample]), True)
    with torch.no_grad():
        feats = detector.extract_feat(data['inputs'])
    assert len(feats) >= 3 and all(torch.isfinite(feat).all() for feat in feats)


# The benchmark's rows of the two COCO configs (tools/benchmark.py --parts detector --models rtmdet- --sizes 416x416 ...)
@pytest.mark.parametrize('row, size, budget', [
    ('rtmdet-nano_ghostnet-1.0x_ghostpan_8xb32-300e-416_coco', (416, 416), 1.52e9),
    ('rtmdet-tiny_ghostnetv2-1.3x_ghostpan_8xb32-300e_coco', (640, 640), 8.0e9),
])
def test_coco_configs_cost_at_most_their_budget(row, size, budget):
    cost = measure_cost(row, size, Settings('cpu', 1, warmup=0, repeats=1, bf16_channels_last=False))
    assert 0.3 * budget < cost['flops_mac'] <= budget
    assert cost['flops_mac_backbone_neck'] < cost['flops_mac']


# The study's peers: MMDetection's own light detectors, their models taken from MMDetection's configs.
PEERS = {
    'rtmdet-tiny_cspnext_pafpn_1xb8-36e_bccd': 'rtmdet/rtmdet_tiny_8xb32-300e_coco.py',
    'yolox-tiny_cspdarknet_pafpn_1xb8-36e_bccd': 'yolox/yolox_tiny_8xb8-300e_coco.py',
    'ssdlite_mobilenetv2_ssdneck_1xb8-36e_bccd': 'ssd/ssdlite_mobilenetv2-scratch_8xb24-600e_coco.py',
}


@pytest.mark.parametrize('name', sorted(PEERS))
def test_peer_rows_are_mmdetection_own_models_for_three_classes(name):
    """Same parameters, name by name and shape by shape, as the model built from MMDetection's config itself with
    3 classes (the oracle); SyncBN replaced by BN and nothing loaded from ImageNet."""
    ours = Config.fromfile(str(REPO / 'configs' / 'bccd' / f'{name}.py'))
    reference = Config.fromfile(str(Path(mmdet.__file__).parent / '.mim' / 'configs' / PEERS[name])).model
    reference.bbox_head.num_classes = 3
    shapes = [{key: tuple(value.shape) for key, value in MODELS.build(cfg).state_dict().items()}
              for cfg in (ours.model, reference)]
    assert shapes[0] == shapes[1] and len(shapes[0]) > 100
    assert 'SyncBN' not in ours.pretty_text and 'Pretrained' not in ours.pretty_text
    assert ours.train_dataloader.dataset.type == 'CheckedVOCDataset' and ours.train_cfg.max_epochs == 36
