# Two commands: `make demo` and `make test`. Both set up .venv themselves. `make mutation`
# (mutation testing, minutes of CPU; not part of `make test` or CI) is described in bench/README.md.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench mutation clean

$(STAMP): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	# bytecode once, as pip writes it for a wheel: an editable install has none, and a shell
	# with PYTHONDONTWRITEBYTECODE=1 would compile every module on every start
	$(BIN)/python -m compileall -q runner plugins > /dev/null
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/runner run playbooks/onboard-employee.yaml --env sandbox

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

# the bench extra (aiohttp for bench/aioserver.py, pyinstrument) is the bench's alone: make test
# does not need it
bench: $(STAMP)
	$(BIN)/python -c 'import aiohttp, pyinstrument' 2>/dev/null || \
		$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m bench

# mutmut 3 over the redactor, the journal and resume, the retry policy and the fast JSONPath
# path, under nice (the machine is shared); TARGETS="redactor retry" runs some of them
mutation: $(STAMP)
	test -x $(BIN)/mutmut || $(BIN)/python -m pip install --quiet -e '.[dev,mutation]'
	$(BIN)/python bench/mutation/run.py $(TARGETS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
