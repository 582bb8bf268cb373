"""Running the shipped detectors: the model zoo of ``checkpoints/metafile.yml`` by name (``zoo``)."""
from .zoo import detector_inferencer, kept_detections, shipped_model, zoo_inferencer

__all__ = ['shipped_model', 'detector_inferencer', 'zoo_inferencer', 'kept_detections']
