"""A whole mmdet detector as one tensor function, ``input -> (dets, labels)``, that exports to plain ONNX.

``End2EndDetector(detector)(input)`` takes ``input``, float32 N x 3 x H x W: the images as mmdet's test pipeline
hands them to the model (BGR 0-255, resized), padded at the bottom and right to H x W with ``padding_value()``
(the value that the data preprocessor's normalisation maps to 0, as mmdet pads after normalising). It returns

* ``dets``: N x K x 5, boxes (x1, y1, x2, y2, in input pixels, clipped to H x W) and score, best first;
* ``labels``: N x K int64; ``-1`` (with box and score 0) marks a slot that holds no detection,

with K the config's ``max_per_img`` (YOLOX's config has none: its ``DEFAULT_MAX_PER_IMG`` best). Inside: the data
preprocessor's channel swap and normalisation, the network,
and mmdet's post-processing (per-level top ``nms_pre``, score threshold, box decoding, empty-box filter, NMS per
class, ``max_per_img``) with static shapes (see ``nms.py``). Supported: single-stage dense heads with anchor or
point priors (RetinaNet and SSD with ``DeltaXYWHBBoxCoder`` boxes; RTMDet-style heads such as ``GhostSepBNHead``
with ``DistancePointBBoxCoder`` boxes), heads with an objectness map (YOLOX: one label per prior, the best class,
scored class x objectness; its boxes are not clipped, as mmdet's ``YOLOXHead`` leaves them) and RPN + standard RoI
head detectors (Faster R-CNN).
"""
import itertools
from typing import List, Sequence, Tuple

import torch
from torch import Tensor, nn
from torchvision.ops import roi_align

from .nms import batched_nms_topk, gather_rows, top_candidates

DEFAULT_MAX_PER_IMG = 100  # detections kept per image where the config sets no max_per_img (COCO's maxDets)


class End2EndDetector(nn.Module):
    """``input`` (N x 3 x H x W, BGR 0-255) -> ``dets`` (N x K x 5), ``labels`` (N x K); see the module doc."""

    def __init__(self, detector: nn.Module) -> None:
        super().__init__()
        preprocessor = detector.data_preprocessor
        self.detector = detector
        self.bgr_to_rgb = bool(getattr(preprocessor, '_channel_conversion', False))
        mean = preprocessor.mean.reshape(1, 3, 1, 1) if preprocessor._enable_normalize else torch.zeros(1, 3, 1, 1)
        std = preprocessor.std.reshape(1, 3, 1, 1) if preprocessor._enable_normalize else torch.ones(1, 3, 1, 1)
        self.register_buffer('mean', mean.clone().float(), persistent=False)
        self.register_buffer('std', std.clone().float(), persistent=False)
        self.two_stage = hasattr(detector, 'rpn_head')
        self.test_cfg = detector.test_cfg.rcnn if self.two_stage else detector.test_cfg

    @property
    def max_per_img(self) -> int:
        return int(self.test_cfg.get('max_per_img', DEFAULT_MAX_PER_IMG))

    def output_dims(self) -> List[List[int]]:
        """Sizes of ``dets`` and ``labels`` after the batch axis: K x 5 and K."""
        return [[self.max_per_img, 5], [self.max_per_img]]

    def padding_value(self) -> Tensor:
        """Per input channel (3,): the raw value that normalises to 0, with which mmdet's batches are padded."""
        mean = self.mean.reshape(3)
        return mean.flip(0) if self.bgr_to_rgb else mean

    def normalize(self, images: Tensor) -> Tensor:
        if self.bgr_to_rgb:
            images = images[:, [2, 1, 0]]
        return (images - self.mean) / self.std

    def denormalize(self, inputs: Tensor) -> Tensor:
        """The raw images (N x 3 x H x W) that ``normalize`` maps to ``inputs``, a batch as mmdet's data
        preprocessor hands it to the model."""
        images = inputs * self.std + self.mean
        return images[:, [2, 1, 0]] if self.bgr_to_rgb else images

    def forward(self, images: Tensor) -> Tuple[Tensor, Tensor]:
        feats = self.detector.extract_feat(self.normalize(images))
        bounds = torch._shape_as_tensor(images)[2:].flip(0).repeat(2).to(images.dtype)  # W, H, W, H
        if self.two_stage:
            proposals, proposal_valid = self.propose(feats, bounds)
            boxes, scores, labels, kept = self.classify(feats, proposals, proposal_valid, bounds)
        else:
            boxes, scores, labels, kept = self.single_stage(feats, bounds)
        dets = torch.cat([torch.where(kept[..., None], boxes, torch.zeros_like(boxes)), scores[..., None]], dim=-1)
        return dets, torch.where(kept, labels, torch.full_like(labels, -1))

    # ---------------------------------------------------------------------------------------------- helpers
    @staticmethod
    def decode(coder: nn.Module, priors: Tensor, deltas: Tensor, bounds: Tensor) -> Tensor:
        """Boxes from ``deltas`` (... x 4) against ``priors`` (anchors ... x 4, or points ... x 2), clipped to the
        input (``bounds`` W, H, W, H)."""
        boxes = coder.decode(priors.reshape(-1, priors.shape[-1]), deltas.reshape(-1, 4),
                             max_shape=None).reshape(deltas.shape)
        return torch.min(torch.max(boxes, torch.zeros_like(boxes)), bounds)

    @staticmethod
    def not_empty(boxes: Tensor, min_size: float) -> Tensor:
        return ((boxes[..., 2] - boxes[..., 0]) > min_size) & ((boxes[..., 3] - boxes[..., 1]) > min_size)

    @staticmethod
    def priors(head: nn.Module, maps: Sequence[Tensor]) -> List[Tensor]:
        return head.prior_generator.grid_priors([m.shape[-2:] for m in maps], device=maps[0].device)

    @staticmethod
    def class_scores(head: nn.Module, logits: Tensor) -> Tensor:
        """Class probabilities (... x C) from logits (... x cls_out_channels), as the head's loss defines them."""
        return logits.sigmoid() if head.use_sigmoid_cls else logits.softmax(-1)[..., :-1]

    # ----------------------------------------------------------------------------------------- single stage
    def single_stage(self, feats: Sequence[Tensor], bounds: Tensor) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
        """mmdet's ``BaseDenseHead.predict_by_feat``: top ``nms_pre`` (prior, class) pairs per level above the score
        threshold, decoded, empty boxes dropped, NMS per class, ``max_per_img`` best."""
        head, cfg = self.detector.bbox_head, self.test_cfg
        outputs = head(feats)
        if len(outputs) == 3:
            return self.single_stage_with_objectness(*outputs)
        cls_maps, reg_maps = outputs
        num_images, num_classes = cls_maps[0].shape[0], head.num_classes
        boxes, scores, labels = [], [], []
        for cls_map, reg_map, priors in zip(cls_maps, reg_maps, self.priors(head, cls_maps)):
            level_scores = self.class_scores(head, cls_map.permute(0, 2, 3, 1).reshape(num_images, -1,
                                                                                          head.cls_out_channels))
            deltas = reg_map.permute(0, 2, 3, 1).reshape(num_images, -1, 4)
            best, index = top_candidates(level_scores.reshape(num_images, -1), cfg.get('nms_pre', -1))
            prior = torch.div(index, num_classes, rounding_mode='floor')
            boxes.append(self.decode(head.bbox_coder, priors[prior], gather_rows(deltas, prior), bounds))
            scores.append(best)
            labels.append(index % num_classes)
        boxes, scores, labels = torch.cat(boxes, 1), torch.cat(scores, 1), torch.cat(labels, 1)
        valid = scores > cfg.get('score_thr', 0.0)
        if cfg.get('min_bbox_size', -1) >= 0:
            valid = valid & self.not_empty(boxes, cfg.min_bbox_size)
        return batched_nms_topk(boxes, scores, labels, valid, cfg.nms.iou_threshold, self.max_per_img)

    def single_stage_with_objectness(self, cls_maps: Sequence[Tensor], reg_maps: Sequence[Tensor],
                                     obj_maps: Sequence[Tensor]) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
        """mmdet's ``YOLOXHead.predict_by_feat``: per prior its best class, scored class x objectness, kept at or
        above the score threshold, decoded by the head (not clipped), NMS per class; then the ``max_per_img`` best."""
        head, cfg = self.detector.bbox_head, self.test_cfg
        num_images = cls_maps[0].shape[0]

        def flat(maps: Sequence[Tensor], channels: int) -> Tensor:  # N x (sum of H x W) x channels
            return torch.cat([m.permute(0, 2, 3, 1).reshape(num_images, -1, channels) for m in maps], dim=1)

        priors = torch.cat(head.prior_generator.grid_priors([m.shape[-2:] for m in cls_maps],
                                                            device=cls_maps[0].device, with_stride=True))
        best, labels = flat(cls_maps, head.cls_out_channels).sigmoid().max(-1)
        scores = best * flat(obj_maps, 1)[..., 0].sigmoid()
        boxes = head._bbox_decode(priors, flat(reg_maps, 4))
        return batched_nms_topk(boxes, scores, labels, scores >= cfg.score_thr, cfg.nms.iou_threshold,
                                self.max_per_img)

    # -------------------------------------------------------------------------------------------- two stage
    def propose(self, feats: Sequence[Tensor], bounds: Tensor) -> Tuple[Tensor, Tensor]:
        """mmdet's ``RPNHead.predict_by_feat``: top ``nms_pre`` anchors per level, decoded, empty boxes dropped,
        NMS per level, ``max_per_img`` best. Returns proposals N x P x 4 and their validity N x P."""
        head, cfg = self.detector.rpn_head, self.detector.test_cfg.rpn
        cls_maps, reg_maps = head(feats)
        num_images = cls_maps[0].shape[0]
        boxes, scores, levels = [], [], []
        for level, (cls_map, reg_map, priors) in enumerate(zip(cls_maps, reg_maps, self.priors(head, cls_maps))):
            objectness = self.class_scores(head, cls_map.permute(0, 2, 3, 1).reshape(num_images, -1,
                                                                                        head.cls_out_channels))
            deltas = reg_map.permute(0, 2, 3, 1).reshape(num_images, -1, 4)
            best, index = top_candidates(objectness[..., 0], cfg.get('nms_pre', -1))
            boxes.append(self.decode(head.bbox_coder, priors[index], gather_rows(deltas, index), bounds))
            scores.append(best)
            levels.append(torch.full_like(index, level))
        boxes, scores, levels = torch.cat(boxes, 1), torch.cat(scores, 1), torch.cat(levels, 1)
        valid = torch.ones_like(scores, dtype=torch.bool)
        if cfg.get('min_bbox_size', -1) >= 0:
            valid = self.not_empty(boxes, cfg.min_bbox_size)
        proposals, _, _, kept = batched_nms_topk(boxes, scores, levels, valid, cfg.nms.iou_threshold,
                                                 int(cfg.max_per_img))
        return proposals, kept

    def roi_features(self, feats: Sequence[Tensor], rois: Tensor) -> Tensor:
        """mmdet's ``SingleRoIExtractor``: each RoI (R x 5: image, x1, y1, x2, y2) pooled from the level its scale
        maps to, with ONNX ``RoiAlign`` (half-pixel, as mmcv's aligned RoIAlign). R x C x S x S.

        Every level pools every RoI (static shapes), the RoIs of other levels emptied to (0, 0, 0, 0) and their
        features not selected: with adaptive sampling (``sampling_ratio=0``, mmdet's default) an empty box samples
        no point, so the levels a RoI does not belong to cost next to nothing. Selected with ``where``, not masked
        by a product: OpenVINO's RoiAlign gives NaN for an empty box, and NaN x 0 is NaN.
        """
        extractor = self.detector.roi_head.bbox_roi_extractor
        levels = extractor.map_roi_levels(rois, len(extractor.featmap_strides))
        pooled = rois.new_zeros(())
        for level, (layer, feat) in enumerate(zip(extractor.roi_layers, feats)):
            on_level = (levels == level)[:, None]
            level_rois = torch.cat([rois[:, :1], rois[:, 1:] * on_level.to(rois.dtype)], dim=1)
            level_feats = roi_align(feat, level_rois, layer.output_size, spatial_scale=layer.spatial_scale,
                                    sampling_ratio=layer.sampling_ratio, aligned=layer.aligned)
            pooled = torch.where(on_level[:, :, None, None], level_feats, pooled)
        return pooled

    def classify(self, feats: Sequence[Tensor], proposals: Tensor, proposal_valid: Tensor,
                 bounds: Tensor) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
        """mmdet's ``StandardRoIHead.predict_bbox`` with ``multiclass_nms``: class scores and per-class boxes of
        every proposal, pairs above the score threshold, NMS per class, ``max_per_img`` best."""
        head, cfg = self.detector.roi_head.bbox_head, self.test_cfg
        num_images, num_proposals = proposal_valid.shape
        image = torch.arange(num_images, device=proposals.device, dtype=proposals.dtype)
        rois = torch.cat([image[:, None, None].expand(-1, num_proposals, 1), proposals], dim=-1).reshape(-1, 5)
        logits, deltas = head(self.roi_features(feats[:len(self.detector.roi_head.bbox_roi_extractor
                                                            .featmap_strides)], rois))
        num_classes = head.num_classes
        scores = logits.softmax(-1)[:, :-1]  # R x C, as BBoxHead.predict_by_feat
        per_class = 1 if head.reg_class_agnostic else num_classes
        boxes = self.decode(head.bbox_coder, rois[:, None, 1:].expand(-1, per_class, 4),
                            deltas.reshape(-1, per_class, 4), bounds).expand(-1, num_classes, 4)
        labels = torch.arange(num_classes, device=rois.device).repeat(num_proposals)[None].expand(num_images, -1)
        valid = (scores > cfg.score_thr) & proposal_valid.reshape(-1, 1)
        return batched_nms_topk(boxes.reshape(num_images, -1, 4), scores.reshape(num_images, -1), labels,
                                valid.reshape(num_images, -1), cfg.nms.iou_threshold, self.max_per_img)


class HeadOutputs(nn.Module):
    """The raw dense outputs of a detector's first head (RetinaNet: class and box maps per level; YOLOX: and its
    objectness maps; Faster R-CNN: the RPN's), from the same ``input`` as ``End2EndDetector``: for checking an
    export before post-processing. With ``normalize=False`` the input is the normalised batch instead (the
    network alone, for runtimes that normalise while converting the image)."""

    def __init__(self, detector: nn.Module, normalize: bool = True) -> None:
        super().__init__()
        self.end2end = End2EndDetector(detector)
        self.normalize = normalize

    def forward(self, images: Tensor) -> Tuple[Tensor, ...]:
        detector = self.end2end.detector
        head = detector.rpn_head if self.end2end.two_stage else detector.bbox_head
        inputs = self.end2end.normalize(images) if self.normalize else images
        return tuple(itertools.chain(*head(detector.extract_feat(inputs))))
