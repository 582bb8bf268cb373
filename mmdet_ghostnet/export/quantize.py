"""Static post-training int8 quantization of an exported end-to-end detector, with ONNX Runtime's quantizer.

The result is a QDQ graph (QuantizeLinear/DequantizeLinear pairs around the quantized operators) with the float
model's ``input``/``dets``/``labels`` contract, which ONNX Runtime and OpenVINO both run. Only convolutions and
matrix products are quantized (``QUANTIZED_OP_TYPES``): weights as int8 per output channel with 7 bits
(``reduce_range``: no overflow in the int16 accumulations of CPUs without VNNI), activations as uint8 (OpenVINO
lost 0.014-0.030 BCCD mAP with int8 activations); pre- and post-processing (normalisation, box decoding, NMS) stay
float. The activation ranges are calibrated (min-max) on images fed exactly as the detector sees them: through the
config's test pipeline, padded to the model's input size.
"""
from typing import Iterator, List, Optional, Sequence, Tuple

import mmcv
import numpy as np
import torch
from mmengine.config import Config

from ..engine.preflight import check_dataset_config
from .exporter import pipeline_image
from .runtime import batch_images

QUANTIZED_OP_TYPES = ('Conv', 'Gemm', 'MatMul')


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

    quantize_static(str(float_onnx), str(out), Reader(), quant_format=QuantFormat.QDQ,
                    op_types_to_quantize=list(QUANTIZED_OP_TYPES), per_channel=True, reduce_range=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                    calibrate_method=CalibrationMethod.MinMax)
