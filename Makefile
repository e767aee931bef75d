# Two commands on a fresh machine: `make demo` (install + offline crawl of all portals into
# SQLite and feeds) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install demo test bench

install: $(VENV)/.installed

# The machine's own pip, not an upgraded one: requirements.txt names every package an extra
# would pull in, so the install is the same with pip 23 as with today's, and the tests (which
# import every module the project and its benchmarks import) check the venv a user gets.
$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -r requirements.txt
	touch $@

demo: install
	$(BIN)/scrapy crawlall --replica
	$(BIN)/scrapy export data/meetings.csv
	$(BIN)/scrapy export data/meetings.json
	@echo "next: $(BIN)/scrapy crawlall --replica    # again: nothing new, nothing stored twice"
	@echo "      $(BIN)/scrapy browse                        # search and browse the store at http://127.0.0.1:8001"
	@echo "      $(BIN)/scrapy export laishan.csv --portal laishan --since 2022-01-01"

# One test file per worker process, a worker per core: a module's fixtures (a replica, a set
# of crawls) are built once, and the suite takes about two thirds of its serial time.
test: install
	$(BIN)/python -m pytest -q -n auto --dist loadfile

bench: install
	$(BIN)/python bench/parse.py
