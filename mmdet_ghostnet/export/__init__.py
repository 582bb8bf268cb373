"""Deploy: folding a trained model for inference, whole detectors as ONNX graphs that a stock ONNX Runtime runs
(``tools/export_onnx.py``), and running them.

* ``fuse``: ``fuse_for_deploy`` and ``FuseConvBNHook``, BatchNorms and GhostNetV3's branches folded into convs;
* ``end2end``: ``End2EndDetector``, image in, ``dets``/``labels`` out, with pre- and post-processing in the graph;
* ``nms``: the post-processing's box selection with static shapes and standard ONNX operators;
* ``exporter``: config and checkpoint checks, the export itself, and the check against PyTorch;
* ``runtime``: ONNX Runtime and OpenVINO sessions, batching images as mmdet does, ``OnnxRuntimeDetector`` for
  ``tools/test.py``;
* ``profile``: kernel time per operator type in ONNX Runtime or OpenVINO, and the convolutions' multiply-adds;
* ``quantize``: static int8 quantization of an exported model;
* ``compare``: detection-by-detection comparison of two outputs.
"""
from .fuse import FuseConvBNHook, fuse_for_deploy

__all__ = ['FuseConvBNHook', 'fuse_for_deploy']
