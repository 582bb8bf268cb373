"""Fine-tuning from weights trained on other classes.

Training with ``load_from`` (without ``--resume``) loads every tensor of the checkpoint whose shape fits the model;
the classification layers of another number of classes keep the model's fresh initialisation, and one log line
says which and why. Any other difference (a tensor of another shape that is no classification layer, a missing
or unexpected key) is refused, naming the keys and shapes: the checkpoint belongs to another model.

A classification layer is, by MMDetection's naming, a parameter of a module called ``*_cls`` (``rtm_cls``,
``retina_cls``, ``fc_cls``, ...) or ``cls_*`` (``cls_convs`` whose entries are plain convs, as SSD's), possibly
one per level (``rtm_cls.0``), whose shape differs from the model's in its first (output) dimension only.
"""
import re
from typing import Dict, List, Optional, Sequence

from torch import Tensor, nn

CLASS_LAYER = re.compile(r'^(?P<layer>(?:.*\.)?(?:\w+_cls|cls_\w+))(?:\.\d+)*\.(?:weight|bias)$')
SHOWN_KEYS = 8  # keys named per kind of difference in an error


def class_layers_to_reinit(model_state: Dict[str, Tensor], checkpoint_state: Dict[str, Tensor],
                           checkpoint: str) -> List[str]:
    """The keys of ``checkpoint_state`` that are classification layers of another number of classes than the
    model's (``model_state``), to keep the model's initialisation for.

    Raises ``ValueError`` naming ``checkpoint`` (the file) and the keys, if anything else differs: a tensor of
    another shape that is not a classification layer, keys missing from the checkpoint (but
    ``num_batches_tracked``) or keys the model does not have.
    """
    missing = sorted(k for k in model_state.keys() - checkpoint_state.keys() if not k.endswith('num_batches_tracked'))
    unexpected = sorted(checkpoint_state.keys() - model_state.keys())
    reinit, mismatched = [], []
    for key, ours in model_state.items():  # in the model's order
        theirs = checkpoint_state.get(key)
        if theirs is not None and theirs.shape != ours.shape:
            other_classes = CLASS_LAYER.match(key) and theirs.dim() == ours.dim() and theirs.shape[1:] == ours.shape[1:]
            (reinit if other_classes else mismatched).append(key)
    differences = []
    if mismatched:
        shapes = '; '.join(f'{k} is {tuple(checkpoint_state[k].shape)} there and {tuple(model_state[k].shape)} in '
                           'the model' for k in mismatched[:SHOWN_KEYS])
        differences.append(f'{len(mismatched)} tensors of another shape that are no classification layer: {shapes}')
    if missing:
        differences.append(f'{len(missing)} missing keys {missing[:SHOWN_KEYS]}')
    if unexpected:
        differences.append(f'{len(unexpected)} unexpected keys {unexpected[:SHOWN_KEYS]}')
    if differences:
        raise ValueError(f'checkpoint={checkpoint!r} belongs to another model: {", ".join(differences)}; '
                         'fine-tuning re-initialises only classification layers (*_cls) of another number of classes')
    return reinit


def load_for_fine_tuning(model: nn.Module, checkpoint: dict, filename: str,
                         classes: Optional[Sequence[str]] = None) -> Optional[str]:
    """Load the state dict of ``checkpoint`` (read from ``filename``) into ``model``, but for the classification
    layers of another number of classes (:func:`class_layers_to_reinit`), which keep their values.

    ``classes`` are the model's, named with the checkpoint's (its ``meta.dataset_meta.classes``, if recorded) in
    the returned line, which says what was re-initialised and why; None when every tensor was loaded.
    """
    state_dict = checkpoint.get('state_dict', checkpoint)
    reinit = class_layers_to_reinit(model.state_dict(), state_dict, filename)
    for key in reinit:  # in place: the state dict keeps its ``_metadata`` (module versions) for loading
        del state_dict[key]
    model.load_state_dict(state_dict, strict=False)  # the missing keys are ``reinit`` and num_batches_tracked
    if not reinit:
        return None
    layers = ', '.join(dict.fromkeys(CLASS_LAYER.match(key)['layer'] + '.*' for key in reinit))
    recorded = checkpoint.get('meta', {}).get('dataset_meta', {}).get('classes')
    theirs = f'{len(recorded)} classes {tuple(recorded)}' if recorded is not None else 'classes (not recorded)'
    ours = f'{len(classes)} {tuple(classes)}' if classes is not None else 'classes'
    return f"load_from {filename}: its {theirs} are not the model's {ours}: re-initialised {layers}"
