# The two commands a newcomer needs: `make run` and `make test`. Both set up .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
# Microsoft 365 Agents Playground, a local Teams emulator, comes from npm (see playground/).
NPM := $(shell command -v npm 2>/dev/null)
NODE_STAMP := playground/node_modules/.installed
PLAYGROUND_PORT ?= 56150
# `make test TEST_WORKERS=0` runs the tests in one process.
TEST_WORKERS ?= auto

.PHONY: run test lint migrate install playground playground-deps clean

# `serve` brings the database up to date itself, so its own first line is the first one shown.
run: install
	@$(BIN)/python -m bot serve

# The suite on every core (pytest-xdist; each worker has its own databases), with the 15
# slowest tests named at the end so that a slow one shows.
test: install playground-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/deptry .
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --durations=15

migrate: install
	$(BIN)/python -m bot db upgrade

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $@

# The bot in local mode (no app id: the playground sends no tokens) and the playground beside it,
# with playground/esmbot.toml making the playground's user an agent and a manager too;
# leaving the playground (Ctrl-C) stops the bot too. Without xdg-open the playground crashes when
# it tries to open a browser, so there it only prints the address.
playground: migrate $(NODE_STAMP)
	@echo "esmbot: http://127.0.0.1:3978/api/messages"
	@echo "Agents Playground: open http://localhost:$(PLAYGROUND_PORT) (if that port is busy, the"
	@echo "playground takes another: see 'Listening on' below). Ctrl-C stops both."
	@MicrosoftAppId= MicrosoftAppPassword= HOST=127.0.0.1 PORT=3978 \
		ESMBOT_CONFIG=playground/esmbot.toml $(BIN)/python -m bot serve & \
	bot=$$!; \
	trap 'kill $$bot 2>/dev/null; wait $$bot 2>/dev/null' EXIT; \
	trap 'exit 130' INT TERM; \
	if [ "$$(uname -s)" = Linux ] && ! command -v xdg-open >/dev/null; then \
		export TEAMSAPPTESTER_BROWSER=none; \
	fi; \
	NO_PROXY=127.0.0.1,localhost playground/node_modules/.bin/agentsplayground start \
		-e http://127.0.0.1:3978/api/messages -c msteams -p $(PLAYGROUND_PORT) --dt

# `make test` installs the playground when npm is there, so that its end-to-end test runs.
ifneq ($(NPM),)
playground-deps: $(NODE_STAMP)
else
playground-deps:
	@echo "npm is not on PATH: no Agents Playground (its end-to-end test skips, or fails in CI)"
endif

$(NODE_STAMP): playground/package-lock.json playground/package.json
	@command -v npm >/dev/null || { echo "make playground needs Node.js and npm" >&2; exit 1; }
	npm ci --prefix playground --no-audit --no-fund
	touch $@

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/deptry .

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .hypothesis esmbot.db esmbot.db-wal esmbot.db-shm
