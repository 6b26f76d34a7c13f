# The two commands of the README. Each sets up what it needs: a virtual environment in .venv,
# installed from requirements.txt (re-installed when requirements.txt, constraints.txt or
# pyproject.toml change).
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# The browser check uses the first Chromium found: $(CHROMIUM), chromium, chromium-browser, google-chrome.
BROWSERS := chromium chromium-browser google-chrome google-chrome-stable

.PHONY: book html check browser test benchmark notebooks clean

$(STAMP): requirements.txt constraints.txt pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

## book: build the HTML book into _build/html, executing every chapter (warnings are errors), and check it
book: html
	@$(MAKE) --no-print-directory check

## html: only the strict build (the pages are rewritten from scratch: Sphinx keeps stale pages, e.g.
## viewcode's _modules/, whose source did not change; the cached doctrees are kept)
html: $(STAMP)
	rm -rf _build/html
	$(VENV)/bin/jupyter-book build . -W -n --keep-going

## check: check the built book: vendored MathJax, internal links, every page in headless Chromium
## (equations typeset, images loaded, no console error, no request off the machine; screenshots
## of each page in _build/screenshots)
check: $(STAMP) browser
	$(PY) .ci/check_book.py
	$(PY) tools/check_links.py
	$(PY) tools/check_browser.py

## browser: install Debian's chromium when no Chromium is found, and Debian's Noto CJK fonts when
## fontconfig lists no font for Chinese (the errata quote Chinese; the browser check fails on a
## page whose Chinese is drawn without a Chinese font) (apt-get, as root or with sudo)
browser:
	@found=""; for b in $$CHROMIUM $(BROWSERS); do command -v $$b >/dev/null 2>&1 && found=$$b && break; done; \
	packages=""; [ -n "$$found" ] || packages=" chromium"; \
	[ -n "$$(fc-list :lang=zh 2>/dev/null)" ] || packages="$$packages fonts-noto-cjk"; \
	if [ -n "$$packages" ]; then \
	  echo "installing with apt-get:$$packages"; \
	  sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  $$sudo apt-get update -qq && $$sudo apt-get install -y -qq $$packages; \
	fi

## test: unit tests, doctests, and nbval over every chapter, on two workers (pytest-xdist; --dist
## loadscope with the scopes of tests/conftest.py: each notebook's cells, which share one kernel, in order
## on one worker, and every other test to whichever worker is free)
test: $(STAMP)
	$(PY) -m pytest --nbval --nbval-current-env -n 2 --dist loadscope

## benchmark: lossref vs torch, forward+backward time and memory
benchmark: $(STAMP)
	$(PY) benchmarks/run.py

## notebooks: re-execute the chapters and store their outputs (after editing one)
notebooks: $(STAMP)
	$(PY) tools/execute_notebooks.py

clean:
	rm -rf _build .jupyter_cache
