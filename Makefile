# The two commands of the README. Each sets up what it needs: a virtual environment in .venv,
# installed from requirements.txt (re-installed when requirements.txt, constraints.txt or
# pyproject.toml change).
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: book test benchmark notebooks clean

$(STAMP): requirements.txt constraints.txt pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

## book: build the HTML book into _build/html, executing every chapter (warnings are errors)
book: $(STAMP)
	$(VENV)/bin/jupyter-book build . -W -n --keep-going
	$(PY) .ci/check_book.py

## test: unit tests, doctests, and nbval over every chapter
test: $(STAMP)
	$(PY) -m pytest --nbval --nbval-current-env

## benchmark: lossref vs torch, forward+backward time and memory
benchmark: $(STAMP)
	$(PY) benchmarks/run.py

## notebooks: re-execute the chapters and store their outputs (after editing one)
notebooks: $(STAMP)
	$(PY) tools/execute_notebooks.py

clean:
	rm -rf _build .jupyter_cache
