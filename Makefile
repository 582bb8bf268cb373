# The two commands of the README:
#   make demo   set up (if needed), then train + evaluate RetinaNet-GhostNet on the offline demo set (CPU)
#   make test   set up (if needed), then run the test suite
VENV ?= .venv
PY := $(VENV)/bin/python
# one test process per core (pytest-xdist; at most 4: each holds a detector or two), a test file per process
TEST_WORKERS ?= $(shell n=$$(nproc); echo $$(( n < 4 ? n : 4 )))

.PHONY: setup test demo
setup:
	bash tools/setup_env.sh

test: setup
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile tests

demo: setup
	bash tools/demo.sh
