# The two commands of the README:
#   make demo   set up (if needed), then train + evaluate RetinaNet-GhostNet on the offline demo set (CPU)
#   make test   set up (if needed), then run the test suite
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: setup test demo
setup:
	bash tools/setup_env.sh

test: setup
	$(PY) -m pytest -q tests

demo: setup
	bash tools/demo.sh
