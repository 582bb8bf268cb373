from mmdet.models.dense_heads import SSDHead
from mmdet.registry import MODELS


@MODELS.register_module()
class PredictingSSDHead(SSDHead):
    """mmdet's ``SSDHead``, able to predict.

    In mmdet 3.3 ``BaseDenseHead`` reads ``self.loss_cls`` when it turns class logits into scores, and ``SSDHead``
    (which computes its loss itself) never sets it: every validation, test or inference of an SSD stops with
    ``AttributeError: 'SSDHead' object has no attribute 'loss_cls'`` (open-mmlab/mmdetection#11780). This head
    has no ``loss_cls`` either (``None``: softmax scores, as ``SSDHead`` means); it is ``SSDHead`` in everything
    else: arguments, parameters, losses and outputs.
    """

    loss_cls = None
