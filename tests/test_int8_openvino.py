"""int8 export (``tools/export_onnx.py --int8``) and OpenVINO as a runtime of the tools (``--runtime openvino``).

The shipped light detector is quantized on the three BCCD images of tests/data (never trained on) and must still
find their annotated cells, read from their VOC files, in ONNX Runtime and in OpenVINO; a demo detector is
quantized on its training set and evaluated through tools/test.py in both runtimes. The graph's structure is
checked with onnx itself.
"""
import re
import warnings

import mmcv
import numpy as np
import onnx
import pytest
import torch
from mmdet.registry import MODELS
from mmengine.analysis import FlopAnalyzer
from mmengine.config import Config, DictAction

from mmdet_ghostnet.export.compare import match_detections, same_detections
from mmdet_ghostnet.export.end2end import HeadOutputs
from mmdet_ghostnet.export.exporter import OUTPUT_NAMES, load_detector, pipeline_image
from mmdet_ghostnet.export.fuse import fuse_for_deploy
from mmdet_ghostnet.export.quantize import quantize_int8
from mmdet_ghostnet.export.runtime import batch_images, inference_session, onnx_model_config, padding_value
from mmdet_ghostnet.utils.model_zoo import load_zoo, recommended

from test_shipped_weights import IMAGES, as_tensors, assert_finds_cells
from tool_runs import FASTER_RCNN_DEMO, REPO, RTMDET_DEMO, run, tiny_run_options

NANO = recommended(load_zoo())
CHECK_IMAGE = IMAGES[0]


@pytest.fixture(scope='module')
def nano_int8(tmp_path_factory):
    """The recommended detector exported as float32 and as int8 (calibrated on the tests/data images)."""
    folder = tmp_path_factory.mktemp('nano')
    config, weights = REPO / NANO['Config'], REPO / NANO['Weights']
    files = {'float32': folder / 'float32.onnx', 'int8': folder / 'int8.onnx'}
    run(REPO / 'tools' / 'export_onnx.py', config, weights, '--out', files['float32'], '--check-image', CHECK_IMAGE)
    result = run(REPO / 'tools' / 'export_onnx.py', config, weights, '--out', files['int8'], '--int8',
                 '--calib-dir', CHECK_IMAGE.parent, '--calib-images', len(IMAGES), '--check-image', CHECK_IMAGE)
    return dict(files, stdout=result.stdout, cfg=Config.fromfile(config))


def detections(cfg: Config, onnx_file, runtime: str):
    """Per image of IMAGES: (boxes in original pixels, scores, labels) of ``onnx_file`` run in ``runtime``
    through ``DetInferencer``, as tools/paint_detections.py runs it."""
    from mmdet.apis import DetInferencer
    cfg = cfg.copy()
    cfg.model = onnx_model_config(cfg.model, str(onnx_file), runtime=runtime)
    with warnings.catch_warnings():
        warnings.filterwarnings('ignore', message='.*(randomly initialized|use COCO classes).*')  # .onnx: no weights
        inferencer = DetInferencer(model=cfg, weights=None, device='cpu', show_progress=False)
    results = inferencer([str(image) for image in IMAGES], return_datasamples=True, no_save_vis=True,
                         no_save_pred=True, print_result=False)
    return [as_tensors(sample.pred_instances) for sample in results['predictions']]


def test_int8_file_is_a_qdq_graph_with_the_float_contract(nano_int8):
    quantized, float32 = (onnx.load(str(nano_int8[key])) for key in ('int8', 'float32'))
    ops = [node.op_type for node in quantized.graph.node]
    assert ops.count('QuantizeLinear') > 50 and ops.count('DequantizeLinear') > 50
    int8_weights = {init.name for init in quantized.graph.initializer if init.data_type == onnx.TensorProto.INT8}
    dequantized = {node.output[0]: node.input[0] for node in quantized.graph.node if node.op_type == 'DequantizeLinear'}
    convs = [node for node in quantized.graph.node if node.op_type == 'Conv']
    assert convs and all(dequantized.get(node.input[1]) in int8_weights for node in convs)
    assert 'NonMaxSuppression' in ops  # the post-processing stays in the graph
    signature = [[(value.name, [d.dim_value for d in value.type.tensor_type.shape.dim]) for value in values]
                 for values in (quantized.graph.input, quantized.graph.output)]
    assert signature == [[(value.name, [d.dim_value for d in value.type.tensor_type.shape.dim]) for value in values]
                         for values in (float32.graph.input, float32.graph.output)]
    assert f'calibrated on {len(IMAGES)} images' in nano_int8['stdout']
    assert 'success: the int8 model finds what PyTorch finds' in nano_int8['stdout']


def test_int8_network_is_int8_between_its_convolutions_and_the_post_processing_float(nano_int8):
    graph = onnx.load(str(nano_int8['int8'])).graph
    producers = {output: node for node in graph.node for output in node.output}

    def takes_int8(node) -> bool:  # every input that another node computes comes dequantized
        computed = [name for name in node.input if name in producers]
        return bool(computed) and all(producers[name].op_type == 'DequantizeLinear' for name in computed)

    quantized = {node.input[0] for node in graph.node if node.op_type == 'QuantizeLinear'}
    joins = [node for node in graph.node if node.op_type in ('Concat', 'Add') and '/backbone/' in node.name]
    assert len(joins) > 40  # the Ghost modules' joins and the residual sums, int8 in and out
    assert all(takes_int8(node) and set(node.output) & quantized for node in joins)
    # Nothing outside the network computes in int8 (gives an output that is quantized again): not the
    # post-processing, not the heads' stride scaling; only the normalisation feeds the first conv's quantization.
    outside = [node for node in graph.node if node.op_type not in ('QuantizeLinear', 'DequantizeLinear')
               and (node.name.count('/') == 1 or node.name.startswith('/bbox_head/Mul'))]
    stem = next(node for node in graph.node if node.name.startswith('/backbone/conv_stem') and node.op_type == 'Conv')
    normalisation = producers[producers[producers[stem.input[0]].input[0]].input[0]]  # ... -> Q -> DQ -> stem
    assert len(outside) > 50 and normalisation.op_type == 'Div'
    assert [node.name for node in outside if set(node.output) & quantized] == [normalisation.name]


@pytest.mark.parametrize('runtime', ['onnxruntime', 'openvino'])
def test_profile_tool_splits_kernel_time_by_operator_and_counts_the_detectors_multiply_adds(nano_int8, runtime):
    config, weights = REPO / NANO['Config'], REPO / NANO['Weights']
    result = run(REPO / 'tools' / 'profile_onnx.py', config, nano_int8['float32'], nano_int8['int8'],
                 '--image', CHECK_IMAGE, '--runtime', runtime, '--runs', 2, '--warmup', 1, '--top', 40)
    network = HeadOutputs(fuse_for_deploy(load_detector(nano_int8['cfg'], str(config), str(weights)))).eval()
    analyzer = FlopAnalyzer(network, (torch.zeros(1, 3, 384, 512), )).unsupported_ops_warnings(False)
    expected = analyzer.uncalled_modules_warnings(False).by_operator()['conv'] / 1e9  # mmengine's count: the oracle
    reports = result.stdout.split(f' in {runtime}, 1 thread(s), input 384x512: ')[1:]
    assert len(reports) == 2
    for report in reports:
        assert f'convolutions: {expected:.2f} G multiply-adds' in report
        shares = [float(share) for share in re.findall(r' ms +([0-9.]+)%', report)]
        assert 90 < sum(shares) <= 100.5 and shares == sorted(shares, reverse=True)
    assert ('QLinearConv' if runtime == 'onnxruntime' else '_I8') in reports[1]


def test_profile_tool_refuses_a_bad_runtime_naming_it(nano_int8):
    result = run(REPO / 'tools' / 'profile_onnx.py', REPO / NANO['Config'], nano_int8['float32'], '--image',
                 CHECK_IMAGE, '--runtime', 'tensorrt', expect_ok=False)
    assert result.returncode == 2 and "--runtime='tensorrt' is invalid" in result.stderr and 'openvino' in result.stderr


@pytest.mark.parametrize('runtime', ['onnxruntime', 'openvino'])
@pytest.mark.parametrize('precision', ['float32', 'int8'])
def test_each_variant_finds_the_annotated_cells(nano_int8, precision, runtime):
    assert_finds_cells(detections(nano_int8['cfg'], nano_int8[precision], runtime))


def test_openvino_float32_gives_onnx_runtimes_detections(nano_int8):
    pairs = zip(*(detections(nano_int8['cfg'], nano_int8['float32'], runtime)
                  for runtime in ('onnxruntime', 'openvino')))
    for (boxes, scores, labels), other in pairs:
        assert same_detections(match_detections(boxes, scores, labels, *other)), 'f32 precision: the same boxes'


def random_checkpoint(config, options: list, path):
    """``path``: the weights of ``config``'s detector (with ``options``) as initialised; returns the config."""
    cfg = Config.fromfile(config)
    cfg.merge_from_dict({key: DictAction._parse_iterable(value) for key, value in
                         (option.split('=', 1) for option in options)})
    detector = MODELS.build(cfg.model)
    detector.init_weights()
    torch.save(dict(state_dict=detector.state_dict(), meta={}), path)
    return cfg


def test_openvino_pools_a_two_stage_detectors_rois_as_onnx_runtime(tiny_data, tmp_path):
    """Every RoI is pooled on every level, emptied on the others: OpenVINO's RoiAlign gives NaN there, which the
    export must not let through (Faster R-CNN's BCCD mAP was 0.002 in OpenVINO when it did)."""
    options = tiny_run_options(tiny_data, 'model.test_cfg.rcnn.score_thr')
    cfg = random_checkpoint(FASTER_RCNN_DEMO, options, tmp_path / 'random.pth')
    onnx_file = tmp_path / 'faster_rcnn.onnx'
    run(REPO / 'tools' / 'export_onnx.py', FASTER_RCNN_DEMO, tmp_path / 'random.pth', '--out', onnx_file,
        '--cfg-options', *options)
    item = pipeline_image(cfg, mmcv.imread(str(sorted((tiny_data / 'val').glob('*.png'))[0])))
    padding = torch.tensor(padding_value(cfg.model))
    feed = {'input': batch_images([item['inputs']], (128, 128), padding).numpy()}
    (ort_dets, ort_labels), (ov_dets, ov_labels) = (inference_session(str(onnx_file), runtime).run(OUTPUT_NAMES, feed)
                                                    for runtime in ('onnxruntime', 'openvino'))
    assert np.isfinite(ov_dets).all() and (ov_labels >= 0).sum() == (ort_labels >= 0).sum() > 0
    np.testing.assert_allclose(ov_dets, ort_dets, atol=1e-3)

    # Its int8 file: the RoI head's layers in int8, the proposals (decoded outside the network) pooled in float.
    quantize_int8(str(onnx_file), str(tmp_path / 'int8.onnx'), iter([feed['input']]))
    graph = onnx.load(str(tmp_path / 'int8.onnx')).graph
    producers = {output: node.op_type for node in graph.node for output in node.output}
    pools, fcs = ([node for node in graph.node if node.op_type == kind] for kind in ('RoiAlign', 'Gemm'))
    assert pools and all(producers.get(node.input[1]) != 'DequantizeLinear' for node in pools)
    assert fcs and all(producers[node.input[0]] == producers[node.input[1]] == 'DequantizeLinear' for node in fcs)
    for runtime in ('onnxruntime', 'openvino'):
        dets, labels = inference_session(str(tmp_path / 'int8.onnx'), runtime).run(OUTPUT_NAMES, feed)
        assert np.isfinite(dets).all() and (labels >= 0).sum() > 0


@pytest.fixture(scope='module')
def demo_int8(tiny_data, tmp_path_factory):
    """The nano demo detector (random weights, score threshold 0) quantized on 4 images of its training set."""
    folder = tmp_path_factory.mktemp('demo')
    options = tiny_run_options(tiny_data, 'model.test_cfg.score_thr')
    checkpoint = folder / 'random.pth'
    random_checkpoint(RTMDET_DEMO, options, checkpoint)
    onnx_file = folder / 'demo_int8.onnx'
    result = run(REPO / 'tools' / 'export_onnx.py', RTMDET_DEMO, checkpoint, '--out', onnx_file, '--int8',
                 '--calib-images', 4, '--cfg-options', *options)
    return dict(onnx=onnx_file, options=options, stdout=result.stdout, checkpoint=checkpoint, folder=folder)


def test_int8_calibrates_on_the_training_set_by_default(demo_int8):
    assert 'calibrated on 4 images (of the training set)' in demo_int8['stdout']


@pytest.mark.parametrize('runtime', ['onnxruntime', 'openvino'])
def test_the_test_tool_evaluates_the_int8_file_in_each_runtime(demo_int8, runtime):
    result = run(REPO / 'tools' / 'test.py', RTMDET_DEMO, demo_int8['onnx'], '--runtime', runtime,
                 '--work-dir', demo_int8['folder'] / runtime, '--cfg-options', *demo_int8['options'])
    assert "'coco/bbox_mAP':" in result.stdout


def test_the_paint_tool_runs_the_int8_file_in_openvino(demo_int8, tiny_data):
    image = sorted((tiny_data / 'val').glob('*.png'))[0]
    out_dir = demo_int8['folder'] / 'painted'
    result = run(REPO / 'tools' / 'paint_detections.py', RTMDET_DEMO, demo_int8['onnx'], image, '--out-dir', out_dir,
                 '--runtime', 'openvino', '--cfg-options', *demo_int8['options'])
    assert 'painted 1 images' in result.stdout and len(list(out_dir.iterdir())) == 1


@pytest.mark.parametrize('extra, words', [
    (['--calib-images', '0'], ['--calib-images=0 is invalid: it must be at least 1']),
    (['--calib-images', '-3'], ['--calib-images=-3 is invalid: it must be at least 1']),
    (['--calib-images', '2.5'], ["argument --calib-images: invalid int value: '2.5'"]),
    (['--calib-images', '9999'], ['--calib-images=9999 is invalid: the training set has only 16 images']),
    (['--calib-dir', 'nowhere'], ["--calib-dir='nowhere' is not a folder"]),
    (['--dynamic'], ['--int8 calibrates a fixed batch-1 input']),
])
def test_bad_int8_options_are_refused_naming_the_argument(demo_int8, extra, words):
    result = run(REPO / 'tools' / 'export_onnx.py', RTMDET_DEMO, demo_int8['checkpoint'], '--out',
                 demo_int8['folder'] / 'bad.onnx', '--int8', *extra, '--cfg-options', *demo_int8['options'],
                 expect_ok=False)
    assert result.returncode == 2, result.stderr
    for word in words:
        assert word in result.stderr
    assert not (demo_int8['folder'] / 'bad.onnx').exists()


def test_calibration_options_need_int8(demo_int8):
    result = run(REPO / 'tools' / 'export_onnx.py', RTMDET_DEMO, demo_int8['checkpoint'], '--out',
                 demo_int8['folder'] / 'bad.onnx', '--calib-images', '4', expect_ok=False)
    assert result.returncode == 2 and '--calib-images and --calib-dir calibrate the --int8 model' in result.stderr


@pytest.mark.parametrize('tool', ['test.py', 'paint_detections.py'])
def test_bad_runtimes_are_refused_naming_the_argument(demo_int8, tool):
    extra = [] if tool == 'test.py' else [demo_int8['folder']]
    bogus = run(REPO / 'tools' / tool, RTMDET_DEMO, demo_int8['onnx'], *extra, '--runtime', 'tensorrt',
                expect_ok=False)
    assert bogus.returncode == 2
    assert "argument --runtime: invalid choice: 'tensorrt' (choose from 'onnxruntime', 'openvino')" in bogus.stderr
    pth = run(REPO / 'tools' / tool, RTMDET_DEMO, demo_int8['checkpoint'], *extra, '--runtime', 'openvino',
              expect_ok=False)
    assert pth.returncode == 2 and "--runtime='openvino' runs an exported .onnx model" in pth.stderr
