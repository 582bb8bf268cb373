"""Helpers of the command-line tools in ``tools/``: argument checks and runner building (``cli``), painting
detections (``paint``). Imported by the tools only, not by the package itself."""
