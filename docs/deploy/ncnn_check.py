"""ncnn against OpenVINO and ONNX Runtime on a detector's network (the normalised image in, raw head maps out: no
pre- or post-processing), one thread, on one image: the largest output difference from ONNX Runtime and the
latency, interleaved rounds.

    pip install ncnn==1.0.20261020 pnnx==20261020   # not in the deploy extra: ncnn is slower here (docs/deploy.md)
    for r in 1 2 3; do
        taskset -c 1 python docs/deploy/ncnn_check.py CONFIG CHECKPOINT IMAGE > docs/deploy/ncnn_check_run$r.txt; done

The network is exported to ONNX (BatchNorms folded; the channel swap and normalisation left out, as an ncnn
application does them while converting the image), converted by pnnx to ncnn (float32 weights), and run by ncnn
with its defaults for the CPU (packed layouts, Winograd / SGEMM convolutions; ``fp16`` and ``bf16`` storage where
the CPU has them) and with float32 only.
"""
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import mmcv
import ncnn
import numpy as np
import pnnx
import torch
from mmengine.config import Config

from mmdet_ghostnet.benchmark.measure import interleaved_times
from mmdet_ghostnet.export.end2end import HeadOutputs
from mmdet_ghostnet.export.exporter import default_input_size, export_onnx, load_detector, pipeline_image
from mmdet_ghostnet.export.fuse import fuse_for_deploy
from mmdet_ghostnet.export.runtime import batch_images, inference_session

ROUNDS, WARMUP = 30, 3


def ncnn_runner(param: Path, weights: Path, outputs: int, float32_only: bool):
    """One inference of the ncnn model on an input (1 x 3 x H x W): its outputs as arrays, in export order."""
    net = ncnn.Net()
    net.opt.num_threads = 1
    if float32_only:
        net.opt.use_fp16_packed = net.opt.use_fp16_storage = net.opt.use_fp16_arithmetic = False
        net.opt.use_bf16_storage = False
    net.load_param(str(param))
    net.load_model(str(weights))

    def run(feed: np.ndarray):
        extractor = net.create_extractor()
        extractor.input('in0', ncnn.Mat(np.ascontiguousarray(feed[0])))
        return [np.array(extractor.extract(f'out{index}')[1])[None] for index in range(outputs)]
    return run


def main() -> None:
    config, checkpoint, image = sys.argv[1:4]
    torch.set_grad_enabled(False)
    cfg = Config.fromfile(config)
    detector = fuse_for_deploy(load_detector(cfg, config, checkpoint), channels_last=False)
    network = HeadOutputs(detector, normalize=False).eval()
    size = default_input_size(cfg)
    end2end = network.end2end
    example = end2end.normalize(batch_images([pipeline_image(cfg, mmcv.imread(image))['inputs']], size,
                                             end2end.padding_value()))
    folder = Path(tempfile.mkdtemp())
    outputs = len(network(example))
    export_onnx(network, example, str(folder / 'network.onnx'), [f'out{index}' for index in range(outputs)])
    subprocess.run([str(Path(pnnx.__file__).parent / 'pnnx'), str(folder / 'network.onnx'),
                    f'inputshape=[1,3,{size[0]},{size[1]}]', f'ncnnparam={folder}/net.param',
                    f'ncnnbin={folder}/net.bin', f'pnnxparam={folder}/net.pnnx.param', f'pnnxbin={folder}/net.pnnx.bin',
                    f'pnnxpy={folder}/net_pnnx.py', f'pnnxonnx={folder}/net.pnnx.onnx', f'ncnnpy={folder}/net_ncnn.py',
                    'fp16=0'], check=True, capture_output=True)
    feed = example.numpy()
    runners = {
        'ONNX Runtime': lambda session=inference_session(folder / 'network.onnx', 'onnxruntime', 1): session.run(
            None, {'input': feed}),
        'OpenVINO (f32)': lambda session=inference_session(folder / 'network.onnx', 'openvino', 1): session.run(
            None, {'input': feed}),
        'ncnn (defaults)': lambda run=ncnn_runner(folder / 'net.param', folder / 'net.bin', outputs, False): run(feed),
        'ncnn (float32)': lambda run=ncnn_runner(folder / 'net.param', folder / 'net.bin', outputs, True): run(feed),
    }
    reference = runners['ONNX Runtime']()
    print(f'{config}, input {size[0]}x{size[1]}, {image}; ncnn {ncnn.__version__}, one thread')
    for name, run in runners.items():
        difference = max(float(np.abs(ours.reshape(theirs.shape) - theirs).max())
                         for ours, theirs in zip(run(), reference))
        print(f'{name:16s} largest |output difference| from ONNX Runtime: {difference:.2e}')
    for name, values in interleaved_times(runners, ROUNDS, WARMUP).items():
        print(f'{name:16s} median {statistics.median(values):6.1f} ms (min {min(values):.1f}, max {max(values):.1f}), '
              f'{ROUNDS} interleaved rounds')


if __name__ == '__main__':
    main()
