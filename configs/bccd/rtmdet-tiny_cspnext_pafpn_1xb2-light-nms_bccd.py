# RTMDet-tiny (mmdet) on the light recipe, tested and timed with the post-processing of the GhostNet light rows and
# the RetinaNet control (score > 0.05, 1000 candidates per level, NMS at IoU 0.6, 100 boxes kept) instead of RTMDet's
# own (score > 0.001, 30000 candidates, IoU 0.65, 300 boxes), whose NMS over the trained weights' many low-score boxes
# costs more than the network on one CPU thread (docs/light_detectors.md). Not trained: the _1xb2 row's weights.
_base_ = './rtmdet-tiny_cspnext_pafpn_1xb2_bccd.py'

model = dict(test_cfg=dict(nms_pre=1000, score_thr=0.05, nms=dict(iou_threshold=0.6), max_per_img=100))
