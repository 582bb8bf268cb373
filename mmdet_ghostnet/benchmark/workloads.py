"""How each part's models are fed, run, differentiated and traced for FLOPs.

Backbones take the requested input size as it is; necks and detectors pad it to a multiple of 32, as mmdet's data
preprocessor does. Necks are fed random GhostNet 1.1x features (``NECK_IN_CHANNELS`` at strides 4/8/16/32).
Detectors get a random image batch (or a given image, resized to the size and normalised and padded by the
model's data preprocessor) with ``DetDataSample``s holding the image metainfo and a few random boxes; their
inference is ``model.predict`` (with post-processing), whose time depends on how many boxes pass the score
threshold, and a two-stage detector's on how many proposals its RPN passes, so on the weights and the image:
inference rows report ``detections_per_image``. Their FLOPs are traced through the raw tensor forward
(``_forward``: backbone, neck and heads, no post-processing). For ONNX Runtime, backbones are exported as they are
and detectors end to end (``mmdet_ghostnet.export``: image in, detections out), both BatchNorm-folded.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

import torch
from torch import Tensor, nn

from .models import NECK_IN_CHANNELS, NECK_STRIDES

Size = Tuple[int, int]
NUM_GT_BOXES = 5


def padded(size: Size, multiple: int) -> Size:
    """``size`` (H, W) rounded up to a multiple of ``multiple``."""
    return tuple(-(-side // multiple) * multiple for side in size)


def size_text(size: Size) -> str:
    return f'{size[0]}x{size[1]}'


class Workload:
    """How the models of one part are fed, run, differentiated and traced for FLOPs (here: a backbone)."""

    pad = 1  # inputs are padded to a multiple of this
    body: Tuple[str, ...] = ()  # submodules whose cost is also reported on their own

    def inputs(self, model: nn.Module, size: Size, batch: int, device: torch.device,
               image: Optional[str] = None) -> Any:
        """A random batch (``image`` is for detectors; the other parts are always fed random tensors)."""
        return torch.randn(batch, 3, *padded(size, self.pad), device=device)

    def forward(self, model: nn.Module, inputs: Any) -> Any:
        return model(inputs)

    def loss(self, model: nn.Module, inputs: Any) -> Tensor:
        return sum(out.float().mean() for out in self.forward(model, inputs))

    def traced(self, model: nn.Module, inputs: Any) -> Tuple[nn.Module, tuple]:
        """The module and positional inputs for ``FlopAnalyzer``."""
        return model, (inputs, )

    def describe_outputs(self, model: nn.Module, inputs: Any) -> Dict[str, float]:
        """Properties of the outputs that the inference time depends on (none for a backbone or neck)."""
        return {}

    def exportable(self, model: nn.Module, inputs: Any) -> Tuple[nn.Module, Tensor, List[str]]:
        """The module, its image input and its output names for an ONNX export (BatchNorms folded)."""
        from mmdet_ghostnet.export import fuse_for_deploy
        model = fuse_for_deploy(model, channels_last=False)
        with torch.no_grad():
            count = len(model(inputs))
        return model, inputs, [f'out{index}' for index in range(count)]


class NeckWorkload(Workload):
    """Random GhostNet 1.1x features of a padded image."""

    pad = 32

    def inputs(self, model: nn.Module, size: Size, batch: int, device: torch.device,
               image: Optional[str] = None) -> Tuple[Tensor, ...]:
        height, width = padded(size, self.pad)
        return tuple(
            torch.randn(batch, channels, height // stride, width // stride, device=device)
            for channels, stride in zip(NECK_IN_CHANNELS, NECK_STRIDES))


class TensorForward(nn.Module):
    """A detector's raw tensor forward (backbone, neck, heads; no post-processing) as ``forward(x)``."""

    def __init__(self, detector: nn.Module, data_samples: list) -> None:
        super().__init__()
        self.detector = detector
        self.data_samples = data_samples

    def forward(self, x: Tensor) -> Any:
        return self.detector._forward(x, self.data_samples)


def _image_batch(model: nn.Module, path: str, size: Size, batch: int) -> Tensor:
    """The image at ``path`` resized to ``size`` (H, W), ``batch`` times, through ``model.data_preprocessor``."""
    import mmcv
    pixels = mmcv.imread(path)  # raises FileNotFoundError / ValueError naming the path if it cannot
    if pixels is None:
        raise ValueError(f'image={path!r} is not an image that OpenCV can read')
    pixels = torch.from_numpy(mmcv.imresize(pixels, (size[1], size[0]))).permute(2, 0, 1).contiguous()
    return model.data_preprocessor(dict(inputs=[pixels] * batch), False)['inputs']


class DetectorWorkload(Workload):
    """A padded random batch (or a given image) with ``DetDataSample``s holding image metainfo and a few random
    boxes."""

    pad = 32
    body = ('backbone', 'neck')

    def inputs(self, model: nn.Module, size: Size, batch: int, device: torch.device,
               image: Optional[str] = None) -> Tuple[Tensor, list]:
        from mmdet.structures import DetDataSample
        from mmengine.structures import InstanceData
        head = model.bbox_head if hasattr(model, 'bbox_head') else model.roi_head.bbox_head
        pixels = None if image is None else _image_batch(model, image, size, batch).to(device)
        pad_shape = padded(size, self.pad) if pixels is None else tuple(pixels.shape[-2:])
        scale = torch.tensor([size[1], size[0]], dtype=torch.float32)
        samples = []
        for _ in range(batch):
            corner = torch.rand(NUM_GT_BOXES, 2) * 0.6 * scale
            extent = (0.1 + 0.3 * torch.rand(NUM_GT_BOXES, 2)) * scale
            sample = DetDataSample(metainfo=dict(img_shape=size, ori_shape=size, scale_factor=(1.0, 1.0),
                                                 pad_shape=pad_shape, batch_input_shape=pad_shape))
            sample.gt_instances = InstanceData(bboxes=torch.cat([corner, corner + extent], dim=1),
                                               labels=torch.randint(head.num_classes, (NUM_GT_BOXES, )))
            samples.append(sample.to(device))
        if pixels is None:
            pixels = torch.randn(batch, 3, *pad_shape, device=device)
        return pixels, samples

    def forward(self, model: nn.Module, inputs: Tuple[Tensor, list]) -> Any:
        return model.predict(*inputs)

    def loss(self, model: nn.Module, inputs: Tuple[Tensor, list]) -> Tensor:
        return model.parse_losses(model.loss(*inputs))[0]

    def traced(self, model: nn.Module, inputs: Tuple[Tensor, list]) -> Tuple[nn.Module, tuple]:
        return TensorForward(model, inputs[1]), (inputs[0], )

    def describe_outputs(self, model: nn.Module, inputs: Tuple[Tensor, list]) -> Dict[str, float]:
        """``detections_per_image``: the mean number of boxes ``model.predict`` returns per image; ``two_stage``:
        whether an RPN chooses what the rest of the detector computes (its MACs then depend on the weights too)."""
        with torch.no_grad():
            results = model.predict(*inputs)
        return dict(detections_per_image=sum(len(result.pred_instances) for result in results) / len(results),
                    two_stage=hasattr(model, 'rpn_head'))

    def exportable(self, model: nn.Module, inputs: Tuple[Tensor, list]) -> Tuple[nn.Module, Tensor, List[str]]:
        """The end-to-end detector of ``tools/export_onnx.py`` (image in, ``dets`` and ``labels`` out), fed the
        raw images whose normalisation is the batch that ``model.predict`` gets: the same input for both."""
        from mmdet_ghostnet.export.exporter import OUTPUT_NAMES, end_to_end
        module = end_to_end(model)
        return module, module.denormalize(inputs[0]), OUTPUT_NAMES


WORKLOADS: Dict[str, Workload] = {'backbone': Workload(), 'neck': NeckWorkload(), 'detector': DetectorWorkload()}
