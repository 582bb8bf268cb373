"""What the exported graph costs: the Ghost module's join without a no-op ``Slice``, NMS over the valid candidates
only, and the profilers (kernel time per operator type in ONNX Runtime and OpenVINO, convolution multiply-adds)."""
import numpy as np
import onnx
import pytest
import torch
from onnx import numpy_helper
from torchvision.ops import batched_nms

from mmdet_ghostnet.export.exporter import export_onnx
from mmdet_ghostnet.export.nms import INVALID_SCORE, batched_nms_topk
from mmdet_ghostnet.export.profile import CONV_TYPES, PROFILERS, conv_multiply_adds
from mmdet_ghostnet.export.quantize import quantize_int8
from mmdet_ghostnet.export.runtime import inference_session
from mmdet_ghostnet.models.layers import GhostModule


def op_types(path) -> list:
    return [node.op_type for node in onnx.load(str(path)).graph.node]


@pytest.mark.parametrize('out_channels, slices', [(16, 0), (15, 1)])
def test_ghost_module_exports_a_slice_only_where_its_ratio_does_not_divide_the_width(tmp_path, out_channels, slices):
    module = GhostModule(8, out_channels, ratio=2).eval()
    images = torch.randn(1, 8, 12, 10)
    export_onnx(module, images, str(tmp_path / 'ghost.onnx'), ['output'])
    assert op_types(tmp_path / 'ghost.onnx').count('Slice') == slices
    output = inference_session(tmp_path / 'ghost.onnx').run(None, {'input': images.numpy()})[0]
    expected = torch.cat([module.primary_conv(images), module.cheap_operation(module.primary_conv(images))], 1)
    assert output.shape == (1, out_channels, 12, 10)
    np.testing.assert_allclose(output, expected[:, :out_channels].detach().numpy(), atol=1e-5)


class NMSTopK(torch.nn.Module):
    def forward(self, boxes, scores, groups, valid):
        return batched_nms_topk(boxes, scores, groups, valid, iou_threshold=0.5, keep=12)


def random_candidates(seed: int, images: int = 2, count: int = 300):
    generator = torch.Generator().manual_seed(seed)
    corners = torch.rand(images, count, 2, generator=generator) * 100
    boxes = torch.cat([corners, corners + 5 + torch.rand(images, count, 2, generator=generator) * 30], -1)
    scores = torch.rand(images, count, generator=generator)
    groups = torch.randint(0, 3, (images, count), generator=generator)
    return boxes, scores, groups, scores > 0.6  # most candidates invalid, as after a score threshold


def test_nms_runs_on_valid_candidates_only_and_keeps_what_torchvision_keeps(tmp_path):
    boxes, scores, groups, valid = random_candidates(0)
    path = tmp_path / 'nms.onnx'
    torch.onnx.export(NMSTopK(), (boxes, scores, groups, valid), str(path), opset_version=17, dynamo=False,
                      input_names=['boxes', 'scores', 'groups', 'valid'])
    model = onnx.load(str(path))
    nms_node = next(node for node in model.graph.node if node.op_type == 'NonMaxSuppression')
    constants = {node.output[0]: numpy_helper.to_array(node.attribute[0].t) for node in model.graph.node
                 if node.op_type == 'Constant'}
    threshold = float(constants[nms_node.input[4]].reshape(()))
    assert INVALID_SCORE < threshold < 0  # drops the invalid candidates, keeps every probability
    outputs = inference_session(path).run(None, {'boxes': boxes.numpy(), 'scores': scores.numpy(),
                                                 'groups': groups.numpy(), 'valid': valid.numpy()})
    for image in range(2):  # oracle: torchvision's NMS per group over the valid candidates of the image alone
        mask = valid[image]
        kept = batched_nms(boxes[image][mask], scores[image][mask], groups[image][mask], 0.5)[:12]
        count = len(kept)
        np.testing.assert_allclose(outputs[0][image, :count], boxes[image][mask][kept].numpy(), atol=1e-5)
        np.testing.assert_allclose(outputs[1][image, :count], scores[image][mask][kept].numpy(), atol=1e-6)
        assert outputs[3][image].tolist() == [True] * count + [False] * (12 - count)
        assert (outputs[2][image, :count] == groups[image][mask][kept].numpy()).all()


def test_nms_in_pytorch_matches_its_export(tmp_path):
    candidates = random_candidates(1)
    torch.onnx.export(NMSTopK(), candidates, str(tmp_path / 'nms.onnx'), opset_version=17, dynamo=False,
                      input_names=['boxes', 'scores', 'groups', 'valid'])
    expected = NMSTopK()(*candidates)
    for runtime in ('onnxruntime', 'openvino'):
        outputs = inference_session(tmp_path / 'nms.onnx', runtime).run(None, dict(zip(
            ['boxes', 'scores', 'groups', 'valid'], (value.numpy() for value in candidates))))
        for ours, theirs in zip(outputs, expected):
            np.testing.assert_allclose(ours, theirs.numpy(), atol=1e-5)


def tiny_convs() -> torch.nn.Module:
    return torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.ReLU(), torch.nn.Conv2d(8, 8, 3, groups=8),
                               torch.nn.Conv2d(8, 2, 1, stride=2)).eval()


def test_conv_multiply_adds_count_each_output_against_its_group_and_kernel(tmp_path):
    images = torch.randn(1, 3, 16, 16)
    export_onnx(tiny_convs(), images, str(tmp_path / 'tiny.onnx'), ['output'])
    expected = 8 * 14 * 14 * 3 * 9 + 8 * 12 * 12 * 1 * 9 + 2 * 6 * 6 * 8  # by hand: out elements x inputs x kernel
    assert conv_multiply_adds(tmp_path / 'tiny.onnx') == expected
    quantize_int8(str(tmp_path / 'tiny.onnx'), str(tmp_path / 'int8.onnx'), iter([images.numpy()]))
    assert conv_multiply_adds(tmp_path / 'int8.onnx') == expected  # its weights behind DequantizeLinear


@pytest.mark.parametrize('warmup', [0, 2])
def test_ort_profile_counts_every_node_of_the_profiled_runs_only(tmp_path, warmup):
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU(), torch.nn.Conv2d(4, 2, 1)).eval()
    images = torch.randn(1, 3, 16, 16)
    export_onnx(model, images, str(tmp_path / 'tiny.onnx'), ['output'])
    time_us, calls = PROFILERS['onnxruntime'](tmp_path / 'tiny.onnx', {'input': images.numpy()}, runs=3,
                                              warmup=warmup, optimization='ORT_DISABLE_ALL')
    assert dict(calls) == {'Conv': 6, 'Relu': 3}
    assert set(time_us) == {'Conv', 'Relu'} and all(value > 0 for value in time_us.values())


@pytest.mark.parametrize('runs', [1, 4])
def test_openvino_profile_counts_the_compiled_graphs_convolutions_per_run(tmp_path, runs):
    images = torch.randn(1, 3, 16, 16)
    export_onnx(tiny_convs(), images, str(tmp_path / 'tiny.onnx'), ['output'])
    time_us, calls = PROFILERS['openvino'](tmp_path / 'tiny.onnx', {'input': images.numpy()}, runs=runs, warmup=1)
    convolutions = sum(count for key, count in calls.items() if key.split('/')[0] in CONV_TYPES)
    assert convolutions == 3 * runs  # the ReLU fused into the first; the depthwise one a GroupConvolution
    assert set(time_us) == set(calls) and sum(time_us.values()) > 0 and min(time_us.values()) >= 0
