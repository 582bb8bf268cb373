"""Where the 22 unmatched ONNX detections of the GhostNetV2 Faster R-CNN come from (docs/deploy.md).

    BCCD_ROOT=... python docs/deploy/bccd/faster-rcnn_ghostnetv2-1.0x_ghostfpn_bccd/diagnose.py CHECKPOINT MODEL.onnx

On four test images with unmatched detections it compares mmdet's ``predict`` with the export wrapper run in
PyTorch (unfolded and BatchNorm-folded) and with the .onnx file in ONNX Runtime; on one of them it exports the
stages up to the RPN's proposals and compares each stage, and runs the RPN's NMS alone in both runtimes on the
same inputs. A one-off diagnosis, not a tool.
"""
import copy
import sys

import numpy as np
import torch
from mmdet.registry import DATASETS
from mmengine.config import Config
from torch import nn
from torchvision.ops import box_iou, nms

import mmdet_ghostnet.export.end2end as end2end
from mmdet_ghostnet.export.compare import match_detections
from mmdet_ghostnet.export.end2end import End2EndDetector
from mmdet_ghostnet.export.exporter import OUTPUT_NAMES, batch_images, end_to_end, export_onnx, load_detector
from mmdet_ghostnet.export.runtime import ort_session

CONFIG = 'configs/bccd/faster-rcnn_ghostnetv2-1.0x_ghostfpn_1xb8-36e_bccd.py'
IMAGES = ('00018', '00063', '00093', '00290')
SIZE = (384, 512)


class UpToProposals(nn.Module):
    """The wrapper's stages up to the RPN: neck levels, the RPN's first objectness map, proposals and validity."""

    def __init__(self, wrapper: End2EndDetector) -> None:
        super().__init__()
        self.wrapper = wrapper

    def forward(self, images):
        feats = self.wrapper.detector.extract_feat(self.wrapper.normalize(images))
        bounds = torch._shape_as_tensor(images)[2:].flip(0).repeat(2).to(images.dtype)
        objectness, _ = self.wrapper.detector.rpn_head(feats)
        return (*feats, objectness[0], *self.wrapper.propose(feats, bounds))


class OnlyNMS(nn.Module):

    def __init__(self, iou_threshold: float) -> None:
        super().__init__()
        self.iou_threshold = iou_threshold

    def forward(self, boxes, scores):
        return nms(boxes, scores, self.iou_threshold)


def matched(a, b) -> str:
    result = match_detections(*a, *b)
    return f"{result['matched']} of {result['reference']}/{result['other']}"


def main(checkpoint: str, onnx_file: str) -> None:
    cfg = Config.fromfile(CONFIG)
    detector = load_detector(cfg, CONFIG, checkpoint)
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    session = ort_session(onnx_file)
    unfolded, folded = End2EndDetector(detector).eval(), end_to_end(detector)
    items = [item for item in map(dataset.__getitem__, range(len(dataset)))
             if any(name in item['data_samples'].img_path for name in IMAGES)]
    print('per image, detections matched (IoU >= 0.99, same label): reference of A/B')
    for item in items:
        batch = batch_images([item['inputs']], SIZE, unfolded.padding_value())
        sample = copy.deepcopy(item['data_samples'])
        sample.set_metainfo(dict(img_shape=SIZE, pad_shape=SIZE, batch_input_shape=SIZE))
        outputs = {}
        with torch.no_grad():
            reference = detector.predict(unfolded.normalize(batch), [sample], rescale=False)[0].pred_instances
            for name, model in (('unfolded', unfolded), ('folded', folded)):
                dets, labels = model(batch)
                outputs[name] = (dets[0, labels[0] >= 0, :4], dets[0, labels[0] >= 0, 4], labels[0, labels[0] >= 0])
        dets, labels = (torch.from_numpy(array[0]) for array in session.run(OUTPUT_NAMES, {'input': batch.numpy()}))
        ort = (dets[labels >= 0, :4], dets[labels >= 0, 4], labels[labels >= 0])
        predict = (reference.bboxes, reference.scores, reference.labels)
        print(f"{item['data_samples'].img_path.split('/')[-1]}: predict~wrapper {matched(predict, outputs['unfolded'])},"
              f" wrapper~folded {matched(outputs['unfolded'], outputs['folded'])},"
              f" folded~ORT {matched(outputs['folded'], ort)}")

    batch = batch_images([items[2]['inputs']], SIZE, unfolded.padding_value())
    stages = UpToProposals(folded).eval()
    names = ['level0', 'level1', 'level2', 'level3', 'level4', 'objectness0', 'proposals', 'valid']
    export_onnx(stages, batch, '/tmp/up_to_proposals.onnx', names)
    ort_outputs = ort_session('/tmp/up_to_proposals.onnx').run(names, {'input': batch.numpy()})
    captured = []
    original_nms = end2end.batched_nms_topk
    end2end.batched_nms_topk = lambda *args: captured.append(args) or original_nms(*args)
    with torch.no_grad():
        torch_outputs = [output.numpy() for output in stages(batch)]
    end2end.batched_nms_topk = original_nms
    print(f"{items[2]['data_samples'].img_path.split('/')[-1]}, ONNX Runtime against PyTorch (folded):")
    for name, ort_output, torch_output in zip(names[:6], ort_outputs, torch_outputs):
        print(f'  {name}: max |difference| / max |value| = '
              f'{np.abs(ort_output - torch_output).max() / np.abs(torch_output).max():.1e}')
    kept_torch = torch.from_numpy(torch_outputs[6][0][torch_outputs[7][0]])
    kept_ort = torch.from_numpy(ort_outputs[6][0][ort_outputs[7][0]])
    unmatched = int((box_iou(kept_torch.double(), kept_ort.double()).max(1).values < 0.9999).sum())
    print(f'  proposals kept: PyTorch {len(kept_torch)}, ONNX Runtime {len(kept_ort)}; '
          f'{unmatched} PyTorch proposals have no identical ONNX Runtime one')

    boxes, scores, levels, _, iou_threshold, _ = captured[0]  # the RPN's NMS, as the wrapper calls it
    shifted = (boxes[0] + levels[0, :, None].to(boxes.dtype) * (boxes[0].max() + 1) * torch.tensor([1., 0, 1, 0]))
    torch.onnx.export(OnlyNMS(iou_threshold), (shifted, scores[0]), '/tmp/only_nms.onnx', input_names=['boxes', 'scores'],
                      output_names=['kept'], opset_version=17, dynamo=False)
    kept_ort = set(ort_session('/tmp/only_nms.onnx').run(['kept'], {'boxes': shifted.numpy(),
                                                                   'scores': scores[0].numpy()})[0].tolist())
    kept_torch = set(nms(shifted, scores[0], iou_threshold).tolist())
    print(f'  the RPN NMS alone on the same {len(scores[0])} candidates: PyTorch keeps {len(kept_torch)}, '
          f'ONNX Runtime {len(kept_ort)}, {len(kept_torch ^ kept_ort)} differ')

    # What goes into that NMS in each runtime: the candidates (boxes and level) in score order, and their scores.
    end2end.batched_nms_topk = lambda boxes, scores, levels, *_: (
        torch.cat([boxes, levels[..., None].to(boxes.dtype)], -1), None, None, scores)
    names = names[:6] + ['candidates', 'scores']
    export_onnx(stages, batch, '/tmp/candidates.onnx', names)
    ort_candidates, ort_scores = ort_session('/tmp/candidates.onnx').run(names, {'input': batch.numpy()})[6:]
    with torch.no_grad():
        torch_candidates, torch_scores = (output[0].numpy() for output in stages(batch)[6:])
    end2end.batched_nms_topk = original_nms
    moved = np.abs(ort_candidates[0] - torch_candidates).max(1) > 0.01
    print(f'  NMS candidates: scores differ by at most {np.abs(ort_scores[0] - torch_scores).max():.1e}; '
          f'{int(moved.sum())} of {len(moved)} positions in score order hold another candidate, e.g.')
    for index in np.nonzero(moved)[0][:2]:
        print(f'    position {index}: PyTorch {torch_scores[index]:.9f}, ONNX Runtime {ort_scores[0][index]:.9f}')


if __name__ == '__main__':
    main(*sys.argv[1:3])
