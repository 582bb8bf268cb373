"""Run an exported end-to-end detector (tools/export_onnx.py) in OpenVINO and ONNX Runtime on the same inputs:
largest output differences and median latency, 1 and 2 threads.

    pip install -e ".[deploy]"   # openvino is in the deploy extra
    python docs/deploy/openvino_check.py MODEL.onnx IMAGE [IMAGE ...]
"""
import sys
import time

import cv2
import numpy as np
import onnxruntime as ort
import openvino as ov


def load(path: str, shape) -> np.ndarray:
    """BGR 0-255 image resized to the model's input (H, W) with its aspect ratio kept, padded with 0: N x 3 x H x W."""
    height, width = shape
    image = cv2.imread(path)
    scale = min(height / image.shape[0], width / image.shape[1])
    resized = cv2.resize(image, (round(image.shape[1] * scale), round(image.shape[0] * scale)))
    padded = np.zeros((height, width, 3), np.float32)
    padded[:resized.shape[0], :resized.shape[1]] = resized
    return padded.transpose(2, 0, 1)[None]


def median_ms(run, repeats: int = 20) -> float:
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return 1000 * sorted(times)[repeats // 2]


def main() -> None:
    model, images = sys.argv[1], sys.argv[2:]
    shape = ort.InferenceSession(model).get_inputs()[0].shape[2:]
    inputs = [load(path, shape) for path in images]
    for threads in (1, 2):
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        session = ort.InferenceSession(model, options, providers=['CPUExecutionProvider'])
        # f32: OpenVINO's CPU plugin would otherwise pick bf16 on processors that support it.
        compiled = ov.Core().compile_model(model, 'CPU', {'INFERENCE_NUM_THREADS': threads,
                                                          'INFERENCE_PRECISION_HINT': 'f32'})
        worst_box, worst_score, label_mismatch = 0.0, 0.0, 0
        for x in inputs:
            dets_ort, labels_ort = session.run(None, {'input': x})
            result = compiled([x])
            dets_ov, labels_ov = result[compiled.outputs[0]], result[compiled.outputs[1]]
            kept = labels_ort >= 0
            worst_box = max(worst_box, float(np.abs(dets_ort[..., :4] - dets_ov[..., :4])[kept].max()))
            worst_score = max(worst_score, float(np.abs(dets_ort[..., 4] - dets_ov[..., 4])[kept].max()))
            label_mismatch += int((labels_ort != labels_ov).sum())
        x = inputs[0]
        print(f'{threads} thread(s): {len(inputs)} images, label mismatches {label_mismatch}, largest box difference '
              f'{worst_box:.2e} px, largest score difference {worst_score:.2e}; median latency: ONNX Runtime '
              f'{median_ms(lambda: session.run(None, {"input": x})):.1f} ms, OpenVINO '
              f'{median_ms(lambda: compiled([x])):.1f} ms')


if __name__ == '__main__':
    main()
