"""ONNX export of the demo detectors end to end: the export tool, parity with PyTorch in ONNX Runtime, the
evaluation of an .onnx file by tools/test.py, and the errors on bad input (CPU, tiny generated data set)."""
import importlib.util
import pickle
import re
import sys
from pathlib import Path

import cv2
import mmdet
import numpy as np
import onnx
import pytest
import torch
from mmdet.registry import DATASETS, METRICS, MODELS
from mmengine.config import Config, DictAction
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from torch.nn.modules.batchnorm import _BatchNorm

from mmdet_ghostnet.export.compare import combine, match_detections, same_detections
from mmdet_ghostnet.export.end2end import HeadOutputs
from mmdet_ghostnet.export.exporter import (OUTPUT_NAMES, check_against_pytorch, check_config, default_input_size,
                                            end_to_end, export_onnx, generated_image, load_detector, pipeline_image)
from mmdet_ghostnet.export.runtime import batch_images, ort_session

from tool_runs import FASTER_RCNN_DEMO, REPO, RETINANET_DEMO, RTMDET_DEMO, run, tiny_run_options

SCORE_THR_KEYS = {'retinanet': 'model.test_cfg.score_thr', 'faster-rcnn': 'model.test_cfg.rcnn.score_thr',
                  'rtmdet': 'model.test_cfg.score_thr'}
CONFIGS = {'retinanet': RETINANET_DEMO, 'faster-rcnn': FASTER_RCNN_DEMO, 'rtmdet': RTMDET_DEMO}
# Per exported detector: layer -> (std, mean) its outputs are given on the test items (mean None: left as is).
# Class logits spread with std 3 (RTMDet's about its prior, -4.6 = logit(0.01), as RetinaNet's are); RTMDet's box distances (in strides, before the head multiplies them by the
# stride) of 2 +- 0.5 strides, so that its boxes are not the points they are a few steps from initialisation.
SPREAD_OUTPUTS = {
    'retinanet': {'bbox_head.retina_cls': (3.0, None)},
    'faster-rcnn': {'roi_head.bbox_head.fc_cls': (3.0, None)},
    'rtmdet': {**{f'bbox_head.rtm_cls.{level}': (3.0, -4.6) for level in range(3)},
               **{f'bbox_head.rtm_reg.{level}': (0.5, 2.0) for level in range(3)}},
}
# The tools around an exported file (tools/test.py, paint, export without the data set) do not depend on the
# detector's structure: they are tested on these two only (RTMDet's export is tested for its graph and parity).
TOOL_CASES = ['faster-rcnn', 'retinanet']
# Raw dense head outputs (HeadOutputs): class and box maps of each level (RetinaNet / RPN: 5 levels, RTMDet: 3).
HEAD_OUTPUTS = {'retinanet': 10, 'faster-rcnn': 10, 'rtmdet': 6}


def spread_outputs(cfg: Config, config: Path, checkpoint: Path, layers: dict, items: list) -> Path:
    """A copy of ``checkpoint`` with BatchNorm statistics of ``items`` and its ``layers`` (module name -> (std,
    mean)) scaled (and their biases shifted, where a mean is given) so that their outputs on ``items`` have that
    std (and mean).

    A detector a few steps from its initialisation has BatchNorm running statistics still close to their initial
    values (a light head's signal then vanishes in eval mode), and gives logits within about 0.02 of the class
    prior's: which boxes make the top K (``max_per_img``) is then decided by differences of the order of float
    rounding, which change with the kernels and the number of threads. Statistics of the data and spread outputs
    make the cut-off a property of the model, as it is for a trained one.
    """
    detector = load_detector(cfg, str(config), str(checkpoint))
    data = detector.data_preprocessor(pseudo_collate(items), False)
    for module in detector.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            module.momentum = None  # a cumulative average over the forward passes
    detector.train()
    with torch.no_grad():
        detector(data['inputs'], data['data_samples'], mode='tensor')
    detector.eval()

    outputs = {name: [] for name in layers}  # each without its bias: what the weights make of the inputs
    hooks = [detector.get_submodule(name).register_forward_hook(
        lambda module, inputs, output, name=name: outputs[name].append(
            (output.transpose(1, -1) - module.bias).flatten())) for name in layers]
    with torch.no_grad():
        detector.test_step(pseudo_collate(items))
        for hook in hooks:
            hook.remove()
        for name, (std, mean) in layers.items():
            layer, output = detector.get_submodule(name), torch.cat(outputs[name])
            scale = std / output.std()
            layer.weight *= scale
            if mean is not None:
                layer.bias += mean - scale * output.mean() - layer.bias.mean()
    state = torch.load(checkpoint, map_location='cpu', weights_only=False)  # mmengine's meta: not only tensors
    state['state_dict'] = detector.state_dict()
    spread = checkpoint.with_name('spread_outputs.pth')
    torch.save(state, spread)
    return spread


def load_tool(name: str):
    """tools/<name>.py as a module, to run its ``main`` in this process (no interpreter start per case)."""
    spec = importlib.util.spec_from_file_location(f'tool_{name}', REPO / 'tools' / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_tool(monkeypatch, name: str, *args) -> int:
    """``main()`` of tools/<name>.py with ``args`` as its command line; its exit code (2 for usage errors)."""
    monkeypatch.setattr(sys, 'argv', [f'{name}.py', *map(str, args)])
    try:
        return load_tool(name).main() or 0
    except SystemExit as exit_info:
        return exit_info.code


@pytest.fixture(scope='module', params=sorted(CONFIGS))
def exported(request, tiny_data, tmp_path_factory):
    """A demo detector trained for 4 iterations, its outputs spread, and exported with score threshold 0 (it
    predicts boxes)."""
    name = request.param
    work_dir = tmp_path_factory.mktemp(name)
    options = tiny_run_options(tiny_data, SCORE_THR_KEYS[name])
    run(REPO / 'tools' / 'train.py', CONFIGS[name], '--work-dir', work_dir, '--cfg-options', *options,
        'train_cfg.val_interval=2')
    cfg = Config.fromfile(CONFIGS[name])
    cfg.merge_from_dict({key: DictAction._parse_iterable(value) for key, value in map(
        lambda option: option.split('=', 1), options)})
    init_default_scope('mmdet')  # module fixtures run before conftest's per-test scope
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    items = [dataset[index] for index in range(len(dataset))]
    checkpoint = spread_outputs(cfg, CONFIGS[name], work_dir / 'epoch_1.pth', SPREAD_OUTPUTS[name], items)
    onnx_file = work_dir / f'{name}.onnx'
    result = run(REPO / 'tools' / 'export_onnx.py', CONFIGS[name], checkpoint, '--out', onnx_file,
                 '--cfg-options', *options)
    return dict(name=name, options=options, onnx=onnx_file, checkpoint=checkpoint, stdout=result.stdout,
                cfg=cfg, dataset=dataset, items=items,
                detector=load_detector(cfg, str(CONFIGS[name]), str(checkpoint)))


def test_export_tool_writes_a_checked_graph_of_standard_operators(exported):
    assert 'onnx.checker passed' in exported['stdout'] and 'success' in exported['stdout']
    model = onnx.load(exported['onnx'])
    onnx.checker.check_model(model, full_check=True)
    assert {node.domain for node in model.graph.node} <= {'', 'ai.onnx'}  # no mmcv or other custom ops
    assert {'NonMaxSuppression', 'TopK'} <= {node.op_type for node in model.graph.node}
    assert model.opset_import[0].version == 17
    shapes = {value.name: [d.dim_value for d in value.type.tensor_type.shape.dim]
              for value in [*model.graph.input, *model.graph.output]}
    assert shapes == {'input': [1, 3, 128, 128], 'dets': [1, 20, 5], 'labels': [1, 20]}
    assert model.graph.output[1].type.tensor_type.elem_type == onnx.TensorProto.INT64


def test_onnx_runtime_gives_the_detections_of_pytorch_predict(exported):
    session = ort_session(exported['onnx'])
    results = [check_against_pytorch(exported['detector'], session, item, (128, 128)) for item in exported['items']]
    assert len(results) == 8 and all(result['reference'] == 20 for result in results)  # boxes on every image
    combined = combine(results)
    assert combined['matched'] >= 0.99 * 160 and combined['max_score_diff'] <= 1e-3
    assert all(same_detections(result) for result in results)


# MMDetection's own light detectors (the BCCD study's peers), from random weights with BatchNorm statistics of the
# three real BCCD test images of tests/data and spread class (and objectness) logits: layer -> (std, mean).
PEERS = {
    'configs/bccd/yolox-tiny_cspdarknet_pafpn_1xb8-36e_bccd.py': {
        **{f'bbox_head.multi_level_conv_cls.{level}': (3.0, -2.0) for level in range(3)},
        **{f'bbox_head.multi_level_conv_obj.{level}': (3.0, -2.0) for level in range(3)},
        **{f'bbox_head.multi_level_conv_reg.{level}': (0.5, 1.0) for level in range(3)}},
    'configs/bccd/ssdlite_mobilenetv2_ssdneck_1xb8-36e_bccd.py': {f'bbox_head.cls_convs.{level}.1': (3.0, None) for level in range(6)},
}
BCCD_TEST_IMAGES = REPO / 'tests' / 'data' / 'bccd'


@pytest.mark.parametrize('config', sorted(PEERS))
def test_mmdet_light_detectors_export_with_the_detections_of_pytorch(config, tmp_path):
    """YOLOX (objectness, best class per prior, no max_per_img: the 100 best) and SSD (softmax over anchors) end to
    end, on three real images: ONNX Runtime gives PyTorch's detections."""
    cfg = Config.fromfile(str(REPO / config))
    cfg.test_dataloader.dataset.data_root = str(BCCD_TEST_IMAGES)
    cfg.test_dataloader.dataset.pipeline[1].scale = (320, 240)  # half the images' size: a shorter test
    check_config(cfg, config)
    detector = MODELS.build(cfg.model)
    detector.init_weights()
    torch.save({'state_dict': detector.state_dict()}, tmp_path / 'random.pth')
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    items = [dataset[index] for index in range(len(dataset))]
    checkpoint = spread_outputs(cfg, REPO / config, tmp_path / 'random.pth', PEERS[config], items)
    detector = load_detector(cfg, str(REPO / config), str(checkpoint))
    model = end_to_end(detector)
    size = default_input_size(cfg)
    export_onnx(model, batch_images([items[0]['inputs']], size, model.padding_value()), str(tmp_path / 'peer.onnx'),
                OUTPUT_NAMES, output_dims=model.output_dims())
    session = ort_session(tmp_path / 'peer.onnx')
    results = [check_against_pytorch(detector, session, item, size) for item in items]
    assert len(results) == 3 and all(result['other'] >= 20 for result in results)  # boxes on every image
    assert all(same_detections(result) for result in results), results
    assert model.max_per_img == (100 if 'yolox' in config else cfg.model.test_cfg.max_per_img)


def test_raw_head_outputs_agree_within_1e_4_of_their_magnitude(exported, tmp_path):
    heads = HeadOutputs(exported['detector']).eval()
    images = torch.stack([item['inputs'].float() for item in exported['items'][:2]])
    names = [f'head{index}' for index in range(HEAD_OUTPUTS[exported['name']])]
    export_onnx(heads, images, str(tmp_path / 'heads.onnx'), names)
    outputs = ort_session(tmp_path / 'heads.onnx').run(names, {'input': images.numpy()})
    with torch.no_grad():
        expected = heads(images)
    assert len(outputs) == len(expected) == len(names)
    for output, reference in zip(outputs, expected):
        assert output.shape == tuple(reference.shape)
        assert np.abs(output - reference.numpy()).max() <= 1e-4 * reference.abs().max().item()


def test_head_outputs_without_normalisation_take_the_normalised_batch(exported):
    images = torch.stack([item['inputs'].float() for item in exported['items'][:2]])
    heads, network = HeadOutputs(exported['detector']).eval(), HeadOutputs(exported['detector'], normalize=False).eval()
    with torch.no_grad():
        for ours, theirs in zip(network(heads.end2end.normalize(images)), heads(images)):
            torch.testing.assert_close(ours, theirs)
        assert not torch.allclose(network(images)[0], heads(images)[0])  # raw images are not what it takes


@pytest.mark.parametrize('exported', TOOL_CASES, indirect=True)
def test_test_tool_evaluates_the_onnx_file_like_the_checkpoint(exported, tmp_path, monkeypatch, capsys):
    """tools/test.py FILE.onnx: the COCO metrics and, per image in original pixels, the detections of mmdet's own
    test step of the checkpoint's model (data preprocessor, predict with rescale), computed here."""
    out = tmp_path / 'onnx.pkl'
    result = run(REPO / 'tools' / 'test.py', CONFIGS[exported['name']], exported['onnx'], '--work-dir', tmp_path,
                 '--out', out, '--cfg-options', *exported['options'])
    line = next(line for line in result.stdout.splitlines() if line.startswith('metrics:'))
    metrics = {key: float(value) for key, value in re.findall(r"'(coco/bbox_mAP\w*)': (-?[\d.]+)", line)}
    predictions = pickle.loads(out.read_bytes())

    with torch.no_grad():
        expected = [exported['detector'].test_step(pseudo_collate([item]))[0] for item in exported['items']]
    metric = METRICS.build(exported['cfg'].test_evaluator)
    metric.dataset_meta = exported['dataset'].metainfo
    metric.process({}, [sample.to_dict() for sample in expected])
    assert set(metrics) == {f'coco/bbox_mAP{suffix}' for suffix in ('', '_50', '_75', '_s', '_m', '_l')}
    for key, value in metric.evaluate(len(expected)).items():
        assert abs(metrics[key] - value) <= 0.001, key

    assert len(predictions) == 8
    for reference, other in zip(expected, predictions):
        assert reference.img_path == other['img_path'] and reference.scale_factor != (1.0, 1.0)
        reference, other = reference.pred_instances, other['pred_instances']
        assert len(reference.bboxes) == 20
        assert same_detections(match_detections(reference.bboxes, reference.scores, reference.labels,
                                                other['bboxes'], other['scores'], other['labels']))

    # tools/compare_predictions.py, the same comparison between two dumps: itself, and with shifted labels
    assert run_tool(monkeypatch, 'compare_predictions', out, out) == 0
    for prediction in predictions:
        prediction['pred_instances']['labels'] = (prediction['pred_instances']['labels'] + 1) % 3
    (tmp_path / 'shifted.pkl').write_bytes(pickle.dumps(predictions))
    assert run_tool(monkeypatch, 'compare_predictions', out, tmp_path / 'shifted.pkl') == 1
    report = capsys.readouterr().out
    assert 'matched (same label, IoU >= 0.99) 160; worst IoU 1.000000' in report
    assert 'NOT the same detections' in report  # some boxes remain matched: the same box is kept for two classes


@pytest.mark.parametrize('exported', TOOL_CASES, indirect=True)
def test_export_without_the_test_set_checks_on_a_generated_image(exported, tmp_path, monkeypatch, capsys):
    """No test set on disk: the export succeeds, checked on a generated image, and says so; the file is the
    detector's (same detections as PyTorch on the test images)."""
    absent = tmp_path / 'absent'
    out = tmp_path / 'model.onnx'
    assert run_tool(monkeypatch, 'export_onnx', CONFIGS[exported['name']], exported['checkpoint'], '--out', out,
                    '--cfg-options', *exported['options'], f'test_dataloader.dataset.data_root={absent}/') == 0
    output = capsys.readouterr().out
    assert 'the test set is not on disk' in output and str(absent) in output
    assert 'check on a generated image: PyTorch 20 detections, ONNX Runtime 20, 20 matched' in output  # threshold 0
    assert 'success: ONNX Runtime gives the same detections as PyTorch' in output
    session = ort_session(out)
    assert all(same_detections(check_against_pytorch(exported['detector'], session, item, (128, 128)))
               for item in exported['items'][:2])


@pytest.mark.parametrize('exported', TOOL_CASES, indirect=True)
def test_check_image_and_generated_image_go_through_the_test_pipeline_as_test_images(exported):
    """``--check-image`` gives the test set's own item for one of its images (without reading the data set);
    a generated image is resized like any other."""
    tool = load_tool('export_onnx')
    cfg = exported['cfg'].copy()
    cfg.test_dataloader.dataset.data_root = '/absent/'
    reference = exported['items'][3]
    item, name = tool.check_image(cfg, reference['data_samples'].img_path, (128, 128))
    assert name == reference['data_samples'].img_path
    assert torch.equal(item['inputs'], reference['inputs'])
    metainfo = reference['data_samples'].metainfo
    same = {key: value for key, value in metainfo.items() if key not in ('img_path', 'img_id')}
    assert len(same) == 3 and {key: item['data_samples'].metainfo[key] for key in same} == same  # shapes, scale

    generated = pipeline_image(cfg, generated_image(200))
    assert generated['inputs'].dtype == torch.uint8 and generated['inputs'].shape == (3, 128, 128)
    assert generated['data_samples'].ori_shape == (200, 200) and generated['data_samples'].scale_factor == (0.64, 0.64)
    assert np.array_equal(generated_image(200), generated_image(200)) and generated_image(200).std() > 10


def test_dynamic_export_runs_other_batches_and_sizes(exported, tmp_path):
    model = end_to_end(exported['detector'])
    items = exported['items'][:2]
    batch = torch.stack([item['inputs'].float() for item in items])
    export_onnx(model, batch, str(tmp_path / 'dynamic.onnx'), OUTPUT_NAMES, dynamic=True,
                output_dims=model.output_dims())
    session = ort_session(tmp_path / 'dynamic.onnx')
    assert [type(side) for side in session.get_inputs()[0].shape] == [str, int, str, str]
    for size in ((160, 128), (128, 192), (128, 128)):
        assert all(same_detections(check_against_pytorch(exported['detector'], session, item, size))
                   for item in items)
    dets, labels = session.run(OUTPUT_NAMES, {'input': batch.numpy()})
    for index in range(2):
        single = session.run(OUTPUT_NAMES, {'input': batch[index:index + 1].numpy()})
        assert np.array_equal(labels[index], single[1][0])
        assert np.abs(dets[index] - single[0][0]).max() <= 1e-3


def test_match_detections_counts_only_same_label_overlapping_boxes():
    boxes = torch.tensor([[0., 0., 10., 10.], [20., 20., 40., 40.], [50., 50., 60., 70.]])
    scores, labels = torch.tensor([0.9, 0.8, 0.7]), torch.tensor([0, 1, 2])
    assert match_detections(boxes, scores, labels, boxes, scores, labels) == dict(
        reference=3, other=3, matched=3, worst_iou=1.0, max_score_diff=0.0)
    moved = boxes + torch.tensor([[0., 0., 0., 0.], [1., 0., 1., 0.], [0., 0., 0., 0.]])  # IoU 19/21
    result = match_detections(boxes, scores, labels, moved, scores + 0.002, torch.tensor([0, 1, 0]))
    assert result['matched'] == 1 and result['worst_iou'] == 0.0
    assert result['max_score_diff'] == pytest.approx(0.002, rel=1e-4)
    assert not same_detections(result)
    # on a small image one detection may be missing (two-stage near-ties), two may not
    assert same_detections(match_detections(boxes, scores, labels, boxes[:2], scores[:2], labels[:2]))
    assert not same_detections(match_detections(boxes, scores, labels, boxes[:1], scores[:1], labels[:1]))
    assert not same_detections(dict(reference=200, other=200, matched=197, max_score_diff=0.0))  # 1% of 200: 2


MMDET_RETINANET = mmdet.__file__.replace('__init__.py', '.mim/configs/retinanet/retinanet_r50_fpn_1x_coco.py')


@pytest.mark.parametrize('exported', TOOL_CASES, indirect=True)
def test_paint_tool_paints_an_exported_model_as_its_checkpoint(exported, tiny_data, tmp_path):
    """Same detections, same class names: the painted pictures of the .onnx file and of the checkpoint agree."""
    image = sorted((tiny_data / 'val').iterdir())[0]
    painted = {}
    for model in (exported['onnx'], exported['checkpoint']):
        out_dir = tmp_path / model.suffix[1:]
        run(REPO / 'tools' / 'paint_detections.py', CONFIGS[exported['name']], model, image, '--out-dir', out_dir,
            '--score-thr', '0', '--cfg-options', *exported['options'])
        painted[model.suffix] = cv2.imread(str(out_dir / image.name)).astype(int)
    original = cv2.imread(str(image)).astype(int)
    assert painted['.onnx'].shape == original.shape and (painted['.onnx'] != original).any()
    assert (np.abs(painted['.onnx'] - painted['.pth']).sum(axis=-1) > 0).mean() < 0.01


@pytest.mark.parametrize('config', ['configs/bccd/retinanet_mobilenetv2_fpn_1xb8-36e_bccd.py',
                                    'configs/bccd/faster-rcnn_r18_fpn_1xb8-36e_bccd.py'])
def test_study_peers_of_this_repository_are_exportable_configs(config):
    """The BCCD study's MobileNetV2 / ResNet-18 rows are this repository's configs: accepted (mmdet's own ResNet
    RetinaNet is refused, see below)."""
    check_config(Config.fromfile(str(REPO / config)), config)
    with pytest.raises(ValueError, match='is not a detector of this repository'):
        check_config(Config.fromfile(MMDET_RETINANET), MMDET_RETINANET)


@pytest.mark.parametrize('args, words', [
    (['configs/demo/missing.py', 'x.pth'], ["config='configs/demo/missing.py' does not exist"]),
    ([MMDET_RETINANET, 'README.md'], ['config=', 'is not a detector of this repository', "'ResNet'"]),
    ([RETINANET_DEMO, 'FOREIGN'], ["checkpoint='", 'belongs to another model']),
    ([RETINANET_DEMO, 'README.md', '--out', 'no-such-folder/model.onnx'],
     ["--out='no-such-folder/model.onnx'", 'does not exist']),
    ([RETINANET_DEMO, 'README.md', '--out', 'model.pth'], ["--out='model.pth' must end with .onnx"]),
    ([RETINANET_DEMO, 'README.md', '--opset', '13'], ['--opset=13', 'at least 16']),
    ([RETINANET_DEMO, 'README.md', '--check-image', 'missing.png'], ["--check-image='missing.png' does not exist"]),
    ([RETINANET_DEMO, 'README.md', '--check-image', 'Makefile'], ["--check-image='Makefile' is not an image"]),
])
def test_export_tool_rejects_bad_input_before_any_work(args, words, tmp_path, monkeypatch, capsys):
    foreign = tmp_path / 'foreign.pth'
    torch.save({'state_dict': {'backbone.conv1.weight': torch.zeros(1)}}, foreign)
    args = [foreign if arg == 'FOREIGN' else arg for arg in args]
    if '--out' not in args:
        args += ['--out', tmp_path / 'model.onnx']
    monkeypatch.chdir(REPO)
    assert run_tool(monkeypatch, 'export_onnx', *args) == 2
    message = capsys.readouterr().err
    for word in words:
        assert word in message
    assert not list(tmp_path.glob('*.onnx'))


def test_test_tool_rejects_options_that_do_not_apply_to_onnx(tmp_path, monkeypatch, capsys):
    onnx_file = tmp_path / 'model.onnx'
    onnx_file.write_bytes(b'')
    assert run_tool(monkeypatch, 'test', RETINANET_DEMO, onnx_file, '--deploy') == 2
    assert f"checkpoint='{onnx_file}' is an ONNX model: --tta, --deploy and --launcher do not apply" in (
        capsys.readouterr().err)


def test_benchmark_times_runtime_rows_of_backbones_and_detectors_at_every_batch_size():
    from mmdet_ghostnet.benchmark.measure import RUNTIME_VARIANTS, Job, Settings, measure_run
    from mmdet_ghostnet.benchmark.models import SPECS_BY_NAME
    from mmdet_ghostnet.benchmark.runs import plan
    specs = [SPECS_BY_NAME[name] for name in ('GhostNet 1.0x', 'GhostFPN (RetinaNet)', 'RetinaNet demo')]
    work = plan(specs, [(64, 64)], [1, 2], ['inference'], ['compile', *RUNTIME_VARIANTS])
    variants = {(spec.name, job.batch, job.variant) for spec, _, jobs in work for job in jobs}
    assert variants == {('GhostNet 1.0x', 1, 'eager'), ('GhostNet 1.0x', 2, 'eager'), ('GhostNet 1.0x', 1, 'compile'),
                        ('GhostFPN (RetinaNet)', 1, 'eager'), ('GhostFPN (RetinaNet)', 2, 'eager'),
                        ('RetinaNet demo', 1, 'eager'), ('RetinaNet demo', 2, 'eager'),
                        *((name, batch, variant) for name in ('GhostNet 1.0x', 'RetinaNet demo') for batch in (1, 2)
                          for variant in RUNTIME_VARIANTS)}
    settings = Settings('cpu', torch.get_num_threads(), warmup=1, repeats=2, bf16_channels_last=False)
    for model, batch, variant in (('GhostNet 1.0x', 1, 'onnxruntime'), ('RetinaNet demo', 1, 'onnxruntime'),
                                  ('RetinaNet demo', 2, 'openvino-int8')):
        row = measure_run(Job(model, (64, 64), batch, 'inference', variant), settings)
        assert len(row['latency_samples_ms']) == 2 and row['latency_median_ms'] > 0, row.get('error')


def test_benchmark_times_a_deploy_row_in_onnx_runtime_only_without_its_as_built_row():
    """The export folds BatchNorms itself: a deploy row would give ONNX Runtime its as-built row's graph again."""
    from mmdet_ghostnet.benchmark.models import SPECS_BY_NAME
    from mmdet_ghostnet.benchmark.runs import plan

    def onnxruntime_rows(names):
        work = plan([SPECS_BY_NAME[name] for name in names], [(64, 64)], [1], ['inference'], ['onnxruntime'])
        return [spec.name for spec, _, jobs in work for job in jobs if job.variant == 'onnxruntime']

    assert onnxruntime_rows(['RetinaNet demo', 'RetinaNet demo deploy']) == ['RetinaNet demo']
    assert onnxruntime_rows(['RetinaNet demo deploy']) == ['RetinaNet demo deploy']
    assert onnxruntime_rows(['GhostNet 1.0x', 'GhostNet 1.0x deploy']) == ['GhostNet 1.0x']


def test_benchmark_feeds_onnx_runtime_the_raw_image_whose_normalisation_eager_predict_gets(tmp_path):
    from mmdet_ghostnet.benchmark.models import SPECS_BY_NAME, build_model
    from mmdet_ghostnet.benchmark.workloads import WORKLOADS
    pixels = np.random.default_rng(0).integers(0, 256, (96, 80, 3), dtype=np.uint8)  # BGR, H x W x 3
    cv2.imwrite(str(tmp_path / 'image.png'), pixels)
    model = build_model(SPECS_BY_NAME['RetinaNet demo']).eval()
    workload = WORKLOADS['detector']
    batch, samples = workload.inputs(model, (64, 64), 2, torch.device('cpu'), image=str(tmp_path / 'image.png'))
    module, images, output_names = workload.exportable(model, (batch, samples))
    resized = torch.from_numpy(cv2.resize(pixels, (64, 64), interpolation=cv2.INTER_LINEAR)).permute(2, 0, 1).float()
    assert images.shape == (2, 3, 64, 64) and output_names == OUTPUT_NAMES
    torch.testing.assert_close(images, resized.expand(2, -1, -1, -1), atol=1e-3, rtol=0)
    torch.testing.assert_close(module.normalize(images), batch, atol=1e-5, rtol=0)
