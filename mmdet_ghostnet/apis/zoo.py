"""The model zoo (``checkpoints/metafile.yml``) from Python: its shipped detectors by name, ready to run.

The index is MMDetection's model-index format (a ``Models:`` list of ``Name``, ``Config``, ``Weights``, with paths
relative to the repository root, and ``Metadata``, where one model has ``Recommended: true``). The detectors run
through MMDetection's ``DetInferencer``, on any image: nothing of the dataset they were trained on is read (the class
names come with the weights).
"""
import warnings
from pathlib import Path
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
from mmdet.apis import DetInferencer
from mmdet.registry import DATASETS

from ..utils.model_zoo import METAFILE, load_zoo, recommended

NO_CLASSES_WARNING = 'dataset_meta or class names are not saved'


def shipped_model(name: Optional[str] = None, index: Union[str, Path] = METAFILE) -> Tuple[str, str]:
    """Absolute ``(config, weights)`` paths of model ``name`` of the model index at ``index``, by default its
    recommended model.

    Paths in the index are relative to the repository root, the folder above the index's folder. An unknown
    ``name`` raises ``ValueError`` listing the names.
    """
    zoo = load_zoo(index)
    models = {model['Name']: model for model in zoo['Models']}
    model = recommended(zoo) if name is None else models.get(name)
    if model is None:
        raise ValueError(f'model {name!r} is not in {index}: the models are {", ".join(models)}')
    root = Path(index).resolve().parents[1]
    return str(root / model['Config']), str(root / model['Weights'])


def detector_inferencer(config: str, weights: str, device: str = 'cpu', show_progress: bool = True) -> DetInferencer:
    """MMDetection's ``DetInferencer`` of ``config`` with ``weights`` on ``device``.

    The class names are the weights' (their meta's ``dataset_meta``, as every checkpoint of a training run has);
    weights without them get the config's (its test set's ``metainfo``, read without touching the dataset)
    instead of ``DetInferencer``'s fallback, COCO's 80 names.
    """
    has_classes = 'dataset_meta' in torch.load(weights, map_location='cpu', weights_only=True).get('meta', {})
    with warnings.catch_warnings():
        if not has_classes:
            warnings.filterwarnings('ignore', message=NO_CLASSES_WARNING)
        inferencer = DetInferencer(model=config, weights=weights, device=device, show_progress=show_progress)
    if not has_classes:
        test_set = dict(inferencer.cfg.test_dataloader.dataset, lazy_init=True)
        # in place: the visualizer holds the same dict
        inferencer.model.dataset_meta['classes'] = DATASETS.build(test_set).metainfo['classes']
    return inferencer


def zoo_inferencer(name: Optional[str] = None, device: str = 'cpu', index: Union[str, Path] = METAFILE,
                   show_progress: bool = True) -> DetInferencer:
    """``DetInferencer`` of model ``name`` of the zoo (by default the recommended one) on ``device``::

        inferencer = zoo_inferencer()
        result = inferencer('photo.jpg', out_dir='outputs/', pred_score_thr=0.3)  # outputs/vis/photo.jpg
    """
    return detector_inferencer(*shipped_model(name, index), device=device, show_progress=show_progress)


def kept_detections(prediction: Dict[str, list], classes: Sequence[str], score_thr: float) -> dict:
    """The detections of ``prediction`` (one image's dict of ``DetInferencer``: ``bboxes``, ``scores``, ``labels``)
    that score above ``score_thr``, as ``DetInferencer`` paints them, with each box's class name (``label_names``)
    and the model's class names (``classes``)."""
    kept = [i for i, score in enumerate(prediction['scores']) if score > score_thr]
    return dict(
        bboxes=[prediction['bboxes'][i] for i in kept],
        scores=[prediction['scores'][i] for i in kept],
        labels=[prediction['labels'][i] for i in kept],
        label_names=[classes[prediction['labels'][i]] for i in kept],
        classes=list(classes))
