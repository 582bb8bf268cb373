"""Running an exported detector with ONNX Runtime or OpenVINO: sessions, inputs as mmdet prepares them, and an
mmengine model that lets ``tools/test.py CONFIG FILE.onnx [--runtime openvino]`` evaluate it through the config's
dataset, pipeline and metric."""
from types import SimpleNamespace
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmengine.model import BaseModel
from mmengine.structures import InstanceData
from torch import Tensor


def ort_session(path: str, threads: Optional[int] = None, optimization: str = 'ORT_ENABLE_ALL',
                profile_prefix: Optional[str] = None):
    """An ``onnxruntime.InferenceSession`` on the CPU; ``threads`` sets its intra-op thread count, ``optimization``
    the ``GraphOptimizationLevel``; with ``profile_prefix`` it writes ONNX Runtime's profile there."""
    import onnxruntime as ort
    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    options.graph_optimization_level = getattr(ort.GraphOptimizationLevel, optimization)
    if profile_prefix:
        options.enable_profiling = True
        options.profile_file_prefix = profile_prefix
    return ort.InferenceSession(str(path), options, providers=['CPUExecutionProvider'])


class OpenVinoSession:
    """An OpenVINO model compiled for the CPU behind ONNX Runtime's session interface (``run``, ``get_inputs``).

    The inference precision is float32 (``INFERENCE_PRECISION_HINT``): OpenVINO's default picks bfloat16 on CPUs
    that have it, which changes detections.
    """

    def __init__(self, path: str, threads: Optional[int] = None) -> None:
        import openvino
        config = {'INFERENCE_PRECISION_HINT': 'f32'}
        if threads:
            config['INFERENCE_NUM_THREADS'] = threads
        self.model = openvino.Core().compile_model(str(path), 'CPU', config)
        self.request = self.model.create_infer_request()

    def get_inputs(self) -> List[SimpleNamespace]:
        """The inputs' names and shapes (a dynamic dimension as its name, as ONNX Runtime reports it)."""
        return [SimpleNamespace(name=port.any_name, shape=[dim.get_length() if dim.is_static else str(dim)
                                                          for dim in port.get_partial_shape()])
                for port in self.model.inputs]

    def run(self, output_names: Optional[Sequence[str]], feed: Dict[str, np.ndarray]) -> List[np.ndarray]:
        results = self.request.infer(feed)
        by_name = {port.any_name: value for port, value in results.items()}
        return [by_name[name] for name in (output_names or list(by_name))]


RUNTIMES = {'onnxruntime': ort_session, 'openvino': OpenVinoSession}


def inference_session(path: str, runtime: str = 'onnxruntime', threads: Optional[int] = None):
    """A CPU session of the ONNX model at ``path`` in ``runtime`` (one of ``RUNTIMES``), run as ONNX Runtime's."""
    if runtime not in RUNTIMES:
        raise ValueError(f'runtime={runtime!r} is invalid: it must be one of {sorted(RUNTIMES)}')
    return RUNTIMES[runtime](path, threads)


def fixed_input_size(session) -> Optional[Tuple[int, int]]:
    """(H, W) of the session's ``input`` when both are fixed numbers, else None (exported with ``--dynamic``)."""
    height, width = session.get_inputs()[0].shape[2:]
    return (height, width) if isinstance(height, int) and isinstance(width, int) else None


def batch_images(images: Sequence[Tensor], size: Tuple[int, int], padding: Tensor) -> Tensor:
    """Stack 3 x h x w images (BGR 0-255) into N x 3 x H x W float32, padded bottom/right with ``padding`` (3,)."""
    batch = padding.float().reshape(1, 3, 1, 1).repeat(len(images), 1, *size)
    for index, image in enumerate(images):
        height, width = image.shape[1:]
        if height > size[0] or width > size[1]:
            raise ValueError(f'an image of {height}x{width} (after the test pipeline) does not fit the model\'s '
                             f'fixed input of {size[0]}x{size[1]}; export with --dynamic or a larger --shape')
        batch[index, :, :height, :width] = image.float()
    return batch


def padded_size(images: Sequence[Tensor], divisor: int) -> Tuple[int, int]:
    """The smallest H x W holding every image, rounded up to a multiple of ``divisor``, as mmdet pads a batch."""
    return tuple(-(-max(image.shape[dim] for image in images) // divisor) * divisor for dim in (1, 2))


@MODELS.register_module()
class OnnxRuntimeDetector(BaseModel):
    """An exported detector (``dets``/``labels`` outputs) behind mmengine's model interface, for testing only.

    ``test_step`` pads the pipeline's images as mmdet's data preprocessor would (to ``pad_size_divisor``, or to the
    model's fixed input size), runs it in ``runtime`` (``RUNTIMES``: ONNX Runtime by default, or OpenVINO; in chunks
    of the model's batch size if that is fixed), and returns
    ``DetDataSample``s with boxes clipped to the resized image and scaled back to the original image, as mmdet's
    ``predict(..., rescale=True)``.
    """

    def __init__(self, onnx_file: str, padding_value: Sequence[float], pad_size_divisor: int = 1,
                 threads: Optional[int] = None, runtime: str = 'onnxruntime', init_cfg: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor=dict(type='mmengine.BaseDataPreprocessor'), init_cfg=init_cfg)
        self.onnx_file = onnx_file
        self.session = inference_session(onnx_file, runtime, threads)
        self.fixed_size = fixed_input_size(self.session)
        batch = self.session.get_inputs()[0].shape[0]
        self.fixed_batch = batch if isinstance(batch, int) else None
        self.padding = torch.tensor(padding_value, dtype=torch.float32)
        self.pad_size_divisor = pad_size_divisor

    def test_step(self, data: dict) -> List[DetDataSample]:
        images, samples = data['inputs'], data['data_samples']
        size = self.fixed_size or padded_size(images, self.pad_size_divisor)
        batch = batch_images(images, size, self.padding).numpy()
        step = self.fixed_batch or len(images)
        dets, labels = [], []
        for start in range(0, len(images), step):  # a fixed batch size: chunks of it, the last one filled up
            chunk = batch[start:start + step]
            chunk = np.concatenate([chunk, np.repeat(chunk[-1:], step - len(chunk), axis=0)])
            outputs = self.session.run(['dets', 'labels'], {'input': chunk})
            dets.extend(outputs[0][:len(images) - start])
            labels.extend(outputs[1][:len(images) - start])
        return [self.to_sample(sample, det, label) for sample, det, label in zip(samples, dets, labels)]

    @staticmethod
    def to_sample(sample: DetDataSample, dets: np.ndarray, labels: np.ndarray) -> DetDataSample:
        keep = labels >= 0
        boxes = torch.from_numpy(dets[keep, :4])
        height, width = sample.img_shape
        boxes = torch.min(boxes.clamp(min=0), boxes.new_tensor([width, height, width, height]))
        scale_w, scale_h = sample.scale_factor
        sample.pred_instances = InstanceData(bboxes=boxes / boxes.new_tensor([scale_w, scale_h, scale_w, scale_h]),
                                             scores=torch.from_numpy(dets[keep, 4]),
                                             labels=torch.from_numpy(labels[keep]))
        return sample

    def forward(self, inputs, data_samples=None, mode: str = 'predict'):
        raise NotImplementedError(f'{type(self).__name__} runs only through test_step (tools/test.py)')


def padding_value(model_cfg: dict) -> List[float]:
    """Per channel of the exported ``input`` (BGR): the raw value that the detector ``model_cfg``'s data
    preprocessor normalises to 0, with which batches are padded."""
    preprocessor = model_cfg.get('data_preprocessor', {})
    mean = list(preprocessor.get('mean') or [0.0, 0.0, 0.0])
    return mean[::-1] if preprocessor.get('bgr_to_rgb') else mean


def onnx_model_config(model_cfg: dict, onnx_file: str, threads: Optional[int] = None,
                      runtime: str = 'onnxruntime') -> dict:
    """The ``model`` config that evaluates ``onnx_file`` in ``runtime`` in place of the detector ``model_cfg``."""
    return dict(type='OnnxRuntimeDetector', onnx_file=onnx_file, threads=threads, runtime=runtime,
                padding_value=padding_value(model_cfg),
                pad_size_divisor=model_cfg.get('data_preprocessor', {}).get('pad_size_divisor', 1))
