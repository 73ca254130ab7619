# Two commands do all set-up on a fresh machine:
#   make demo   compare the representation-learning models on digits in both backends
#   make test   the whole suite: torch-side tests in .venv, MXNet and parity tests in .venv-mxnet
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
VENV_MX := .venv-mxnet

.PHONY: all demo test test-torch test-mxnet benchmark clean debian-data

all: test

$(VENV)/.installed: pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q torch==2.13.0 -e '.[torch,dev]'
	touch $@

# MXNet 1.9.1 imports only with numpy < 1.24; torch is here for the parity tests.
$(VENV_MX)/.installed: pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV_MX)
	$(VENV_MX)/bin/pip install -q numpy==1.23.5 mxnet==1.9.1 torch==2.13.0 -e '.[mxnet,torch,dev]'
	touch $@

# Optional Debian data (Fashion-MNIST); never fails the build, its tests skip where it is absent.
debian-data:
	@./scripts/install-debian-data.sh

$(VENV): $(VENV)/.installed
$(VENV_MX): $(VENV_MX)/.installed

demo: $(VENV_MX)/.installed
	$(VENV_MX)/bin/accelbrainbase compare representation --data digits --backends torch,mxnet --epochs 30 --out out/compare-representation

# The test models are tiny: one OpenMP thread is fastest for them, and it keeps torch's and
# mxnet's thread pools from spinning against each other on a 2-core machine.
TEST_ENV := OMP_NUM_THREADS=1

test: debian-data $(VENV)/.installed $(VENV_MX)/.installed
	@status=0; \
	$(TEST_ENV) $(VENV)/bin/python -m pytest -m "not mxnet and not parity" || status=1; \
	$(TEST_ENV) $(VENV_MX)/bin/python -m pytest -m "mxnet or parity" || status=1; \
	exit $$status

test-torch: $(VENV)/.installed
	$(TEST_ENV) $(VENV)/bin/python -m pytest -m "not mxnet and not parity"

test-mxnet: $(VENV_MX)/.installed
	$(TEST_ENV) $(VENV_MX)/bin/python -m pytest -m "mxnet or parity"

benchmark: $(VENV_MX)/.installed
	$(VENV_MX)/bin/python benchmarks/overhead.py
	$(VENV_MX)/bin/python benchmarks/rbm.py
	$(VENV_MX)/bin/python benchmarks/conv.py

clean:
	rm -rf $(VENV) $(VENV_MX) out *.egg-info
