"""Static post-training int8 quantization of an exported end-to-end detector, with ONNX Runtime's quantizer.

The result is a QDQ graph (QuantizeLinear/DequantizeLinear pairs around the quantized operators) with the float
model's ``input``/``dets``/``labels`` contract, which ONNX Runtime and OpenVINO both run. The network is int8 from
its first convolution to its last (``network_nodes``): every convolution and matrix product (``WEIGHTED_OP_TYPES``)
and, between them, the joins, activations, poolings and resizes (``BETWEEN_OP_TYPES``), so that a runtime keeps
the features in int8 rather than converting them around each convolution (docs/deploy.md measures what that
gains). Weights are int8 per output channel with 7 bits (``reduce_range``: no overflow in the int16
accumulations of CPUs without VNNI), activations uint8 (OpenVINO lost 0.014-0.030 BCCD mAP with int8
activations). The normalisation and the post-processing (what follows the heads' last convolutions, whose
outputs it reads dequantized: stride scaling, box decoding, scores, NMS) compute in float.
The activation ranges are calibrated (min-max) on images fed exactly as the detector sees them: through the
config's test pipeline, padded to the model's input size.
"""
from typing import Iterator, List, Optional, Sequence, Set, Tuple

import mmcv
import numpy as np
import torch
from mmengine.config import Config

from ..engine.preflight import check_dataset_config
from .exporter import pipeline_image
from .runtime import batch_images

WEIGHTED_OP_TYPES = ('Conv', 'Gemm', 'MatMul')
BETWEEN_OP_TYPES = ('Add', 'Mul', 'Concat', 'Relu', 'Sigmoid', 'HardSigmoid', 'Resize', 'MaxPool', 'AveragePool',
                    'GlobalAveragePool')


def network_nodes(model) -> Set[str]:
    """Names of the nodes of an exported detector (``onnx.ModelProto``) to quantize: every ``WEIGHTED_OP_TYPES``
    node, and every ``BETWEEN_OP_TYPES`` node of the network's modules (named by module path, e.g.
    ``/backbone/blocks.0/...``; the exporter names the end-to-end wrapper's own pre- and post-processing nodes
    ``/Add_3``) whose output reaches a weighted node: the stride scaling after a head's last conv does not, and a
    two-stage detector's proposal decoding, which reaches its RoI head, is not in a module."""
    weighted = [node for node in model.graph.node if node.op_type in WEIGHTED_OP_TYPES]
    producers = {output: node for node in model.graph.node for output in node.output}
    upstream, frontier = set(), list(weighted)
    while frontier:  # every node with a path to a weighted node
        for name in frontier.pop().input:
            producer = producers.get(name)
            if producer is not None and producer.name not in upstream:
                upstream.add(producer.name)
                frontier.append(producer)
    return {node.name for node in weighted} | {
        node.name for node in model.graph.node
        if node.op_type in BETWEEN_OP_TYPES and node.name in upstream and node.name.count('/') >= 2}


def training_images(cfg: Config, count: int) -> List[str]:
    """``count`` image files spread evenly over the config's training set (ValueError when it has fewer)."""
    from mmdet.registry import DATASETS
    check_dataset_config('train_dataloader', cfg.train_dataloader.dataset)
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    dataset = getattr(dataset, 'dataset', dataset)  # a wrapper's (e.g. MultiImageMixDataset) own data set
    available = len(dataset)
    if count > available:
        raise ValueError(f'--calib-images={count} is invalid: the training set has only {available} images')
    return [dataset.get_data_info(int(index))['img_path'] for index in np.linspace(0, available - 1, count)]


def calibration_batches(cfg: Config, images: Sequence[str], size: Tuple[int, int],
                        padding: torch.Tensor) -> Iterator[np.ndarray]:
    """Each of ``images`` as the model's ``input``: 1 x 3 x H x W float32 after the test pipeline, padded."""
    for path in images:
        image = mmcv.imread(path)
        if image is None:
            raise ValueError(f'calibration image {path!r} is not an image that OpenCV can read')
        yield batch_images([pipeline_image(cfg, image)['inputs']], size, padding).numpy()


def quantize_int8(float_onnx: str, out: str, batches: Iterator[np.ndarray]) -> None:
    """Write the int8 QDQ model of ``float_onnx`` to ``out``, calibrated on ``batches`` (the model's inputs)."""
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                          quantize_static)

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.feeds = ({'input': batch} for batch in batches)

        def get_next(self) -> Optional[dict]:
            return next(self.feeds, None)

    import onnx
    nodes = sorted(network_nodes(onnx.load(str(float_onnx))))
    quantize_static(str(float_onnx), str(out), Reader(), quant_format=QuantFormat.QDQ, nodes_to_quantize=nodes,
                    op_types_to_quantize=[*WEIGHTED_OP_TYPES, *BETWEEN_OP_TYPES], per_channel=True, reduce_range=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                    calibrate_method=CalibrationMethod.MinMax)
