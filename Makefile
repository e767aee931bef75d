# Two commands on a fresh machine: `make demo` (install + offline crawl of all portals into
# SQLite and feeds) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install demo test bench

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt
	touch $@

demo: install
	$(BIN)/scrapy crawlall --replica
	$(BIN)/scrapy export data/meetings.csv
	$(BIN)/scrapy export data/meetings.json

test: install
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python bench/parse.py
