"""Helpers of the command-line tools in ``tools/``: argument checks and runner building (``cli``), painting
detections (``paint``), the model zoo's metafile and README table (``model_zoo``, also read by ``apis``)."""
