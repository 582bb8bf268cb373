"""Detection-by-detection comparison of two detectors' outputs on the same image (e.g. ONNX Runtime vs PyTorch).

Each reference detection, best first, is matched to the not yet matched detection of the other output with the same
label and the highest IoU; a match counts when that IoU is at least ``min_iou``.
"""
from typing import Dict, Sequence

import torch
from torch import Tensor
from torchvision.ops import box_iou

# What "the same detections" means for this project (the export tool's check and the tests): MIN_MATCHED of the
# detections matched, and on an image with fewer than 100 at most one not, because two-stage detectors can keep a
# different proposal when float-level noise reorders near-equal RPN scores (docs/deploy.md, BCCD section).
MIN_IOU = 0.99
MIN_MATCHED = 0.99
MAX_SCORE_DIFF = 1e-3


def match_detections(ref_boxes: Tensor, ref_scores: Tensor, ref_labels: Tensor, boxes: Tensor, scores: Tensor,
                     labels: Tensor, min_iou: float = MIN_IOU) -> Dict[str, float]:
    """Match K1 reference detections (boxes K1 x 4, scores K1, labels K1) with K2 others.

    Returns the counts (``reference``, ``other``, ``matched``), ``worst_iou`` (lowest IoU among the matches, or of
    the best same-label candidate of an unmatched reference box; 1 when there is nothing to match) and
    ``max_score_diff`` (largest |score difference| among the matches).
    """
    iou = box_iou(ref_boxes.double(), boxes.double()) if len(ref_boxes) and len(boxes) else torch.zeros(
        len(ref_boxes), len(boxes), dtype=torch.float64)
    iou[ref_labels[:, None] != labels[None, :]] = -1
    taken = torch.zeros(len(boxes), dtype=torch.bool)
    matched, worst_iou, max_score_diff = 0, 1.0, 0.0
    for ref in ref_scores.argsort(descending=True, stable=True).tolist():
        candidates = iou[ref].masked_fill(taken, -1)
        best = int(candidates.argmax()) if len(boxes) else -1
        best_iou = float(candidates[best]) if best >= 0 else 0.0
        worst_iou = min(worst_iou, max(best_iou, 0.0))
        if best_iou >= min_iou:
            taken[best] = True
            matched += 1
            max_score_diff = max(max_score_diff, abs(float(ref_scores[ref]) - float(scores[best])))
    return dict(reference=len(ref_boxes), other=len(boxes), matched=matched, worst_iou=worst_iou,
                max_score_diff=max_score_diff)


def combine(results: Sequence[Dict[str, float]]) -> Dict[str, float]:
    """``match_detections`` results of several images as one (counts summed, worst values kept)."""
    combined = {key: sum(result[key] for result in results) for key in ('reference', 'other', 'matched')}
    combined['worst_iou'] = min((result['worst_iou'] for result in results), default=1.0)
    combined['max_score_diff'] = max((result['max_score_diff'] for result in results), default=0.0)
    return combined


def same_detections(result: Dict[str, float]) -> bool:
    """Whether a ``match_detections`` result meets the project's bar (``MIN_MATCHED`` of the larger output matched,
    or all but one of it, whichever is less; |score difference| at most ``MAX_SCORE_DIFF``)."""
    larger = max(result['reference'], result['other'])
    enough = result['matched'] >= min(MIN_MATCHED * larger, larger - 1)
    return enough and result['max_score_diff'] <= MAX_SCORE_DIFF
