"""Box selection with static shapes, for graphs that ONNX Runtime runs without custom ops.

Every image keeps a fixed number of candidates; a candidate that mmdet would have dropped (score under the
threshold, an empty box, a padding slot) stays in place with ``valid`` False, and what is kept at the end is
chosen with ``topk``. NMS is ``torchvision.ops.nms`` (ONNX ``NonMaxSuppression``) over all images and groups at
once: as in ``mmcv.ops.batched_nms``, boxes of group ``g`` are shifted by ``g * (max coordinate + 1)`` along x so
that groups never overlap; images are shifted the same way along y (no shift for the first image, so a batch of
one is exactly mmcv's computation). The exported ``NonMaxSuppression`` gets a score threshold between
``INVALID_SCORE`` and every probability, so the runtime sorts and compares only the valid candidates.
"""
from typing import Tuple

import torch
from torch import Tensor
from torchvision.ops import nms

INVALID_SCORE = -1.0  # below every probability: the score of a dropped candidate
VALID_SCORE_FLOOR = INVALID_SCORE / 2  # NMS's score threshold: under every probability, over INVALID_SCORE


class ValidCandidateNMS(torch.autograd.Function):
    """``torchvision.ops.nms`` of the boxes scored above ``VALID_SCORE_FLOOR`` (the kept indices, best first).

    Exported as ONNX ``NonMaxSuppression`` with that score threshold. Dropping the invalid candidates changes no
    survivor: they score lowest, so they come last and suppress nothing.
    """

    @staticmethod
    def forward(ctx, boxes: Tensor, scores: Tensor, iou_threshold: float) -> Tensor:
        kept = nms(boxes, scores, iou_threshold)
        return kept[scores[kept] > VALID_SCORE_FLOOR]

    @staticmethod
    def symbolic(g, boxes, scores, iou_threshold: float):
        def constant(value, dtype):
            return g.op('Constant', value_t=torch.tensor(value, dtype=dtype))

        # NonMaxSuppression takes boxes 1 x M x 4 and scores 1 x 1 x M; it returns (batch, class, box) rows.
        selected = g.op('NonMaxSuppression', g.op('Unsqueeze', boxes, constant([0], torch.long)),
                        g.op('Unsqueeze', scores, constant([0, 1], torch.long)),
                        constant([torch.iinfo(torch.long).max], torch.long), constant([iou_threshold], torch.float),
                        constant([VALID_SCORE_FLOOR], torch.float))
        return g.op('Squeeze', g.op('Gather', selected, constant([2], torch.long), axis_i=1),
                    constant([1], torch.long))


def top_candidates(scores: Tensor, count: int) -> Tuple[Tensor, Tensor]:
    """The ``min(count, M)`` best of ``scores`` (N x M) per image, best first: (scores, indices), N x k each.

    ``count <= 0`` keeps all M, as mmdet's ``nms_pre=-1``.
    """
    total = scores.shape[1]  # a 0-dim tensor while tracing for ONNX: k then follows the input size
    if count <= 0:
        k = total
    elif isinstance(total, Tensor):
        k = total.clamp(max=count)
    else:
        k = min(count, total)
    return scores.topk(k, dim=1)


def gather_rows(values: Tensor, indices: Tensor) -> Tensor:
    """``values[n, indices[n, j]]`` for ``values`` N x M x ... and ``indices`` N x k: N x k x ...."""
    index = indices.reshape(*indices.shape, *([1] * (values.dim() - 2))).expand(*indices.shape, *values.shape[2:])
    return values.gather(1, index)


def batched_nms_topk(boxes: Tensor, scores: Tensor, groups: Tensor, valid: Tensor, iou_threshold: float,
                     keep: int) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    """NMS within each image and group, then the ``keep`` best survivors per image, best first.

    Args:
        boxes: N x M x 4 (x1, y1, x2, y2); scores: N x M; groups: N x M int64 (class or level);
        valid: N x M bool, False for candidates that must not be kept.
        iou_threshold: a box is suppressed by a better one of its image and group with IoU above this.
        keep: boxes kept per image (K).

    Returns:
        boxes N x K x 4, scores N x K, groups N x K and kept N x K (bool; False marks padding slots).
    """
    num_images, num_candidates = scores.shape
    # K invalid slots per image, so that top-k always has K entries to choose from.
    boxes = torch.cat([boxes, boxes.new_zeros(num_images, keep, 4)], dim=1)
    scores = torch.cat([scores, scores.new_zeros(num_images, keep)], dim=1)
    groups = torch.cat([groups, groups.new_zeros(num_images, keep)], dim=1)
    valid = torch.cat([valid, valid.new_zeros(num_images, keep)], dim=1)

    scores = torch.where(valid, scores, torch.full_like(scores, INVALID_SCORE))
    span = torch.where(valid[..., None], boxes, torch.zeros_like(boxes)).max() + 1
    image = torch.arange(num_images, device=boxes.device, dtype=boxes.dtype)[:, None].expand_as(scores)
    shift = torch.stack([groups.to(boxes.dtype), image, groups.to(boxes.dtype), image], dim=-1) * span
    kept = ValidCandidateNMS.apply((boxes + shift).reshape(-1, 4), scores.reshape(-1), iou_threshold)

    survivors = torch.full_like(scores, INVALID_SCORE).reshape(-1)
    survivors = survivors.index_put((kept, ), scores.reshape(-1)[kept]).reshape(scores.shape)
    best, index = survivors.topk(keep, dim=1)
    is_kept = best > INVALID_SCORE
    return gather_rows(boxes, index), torch.where(is_kept, best, torch.zeros_like(best)), gather_rows(
        groups, index), is_kept
