# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
WEB_PORT ?= 8000
X_EMULATOR_PORT ?= 8001
export WEB_PORT X_EMULATOR_PORT

.PHONY: run test setup lint format messages clean

$(BIN)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

# Test-only JavaScript tools (package.json): X's twitter-text counter and axe-core.
node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null; then npm ci --no-audit --no-fund --loglevel=error && touch $@; else echo "npm missing (apt-get install nodejs npm): the tests that need it skip, or fail under CI"; fi

setup: $(BIN)/.installed
	@if command -v msgfmt >/dev/null; then $(BIN)/python manage.py compilemessages --ignore=.venv -v 0; else echo "msgfmt missing (apt-get install gettext): pages stay in English"; fi
	$(BIN)/python manage.py migrate --noinput -v 0
	$(BIN)/python manage.py createcachetable

# A local try as a user sees it: DEBUG off (OnAir's error pages; DEBUG=1 for Django's
# technical ones), over http on the loopback address with nothing to configure, and every
# link (posts to X, og:url, og:image) on $(WEB_PORT) (ONAIR_LOCAL_RUN, onair/settings.py).
run: setup
	@echo ""
	@echo "  OnAir is starting at http://127.0.0.1:$(WEB_PORT)/  (Ctrl-C stops web, worker and beat)"
	@echo ""
	ONAIR_LOCAL_RUN=1 $(BIN)/honcho -f Procfile.dev start

test: $(BIN)/.installed node_modules/.installed
	@if command -v msgfmt >/dev/null; then $(BIN)/python manage.py compilemessages --ignore=.venv -v 0; fi
	ONAIR_VAR_DIR=$${ONAIR_VAR_DIR:-$(CURDIR)/var/test} $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(BIN)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# One catalogue: the ES modules in static/ hold no strings of their own, they read the
# page's translated words (json_script, data-t-* attributes), so there is no djangojs domain.
messages: $(BIN)/.installed
	$(BIN)/python manage.py makemessages -l fr --ignore=.venv --ignore=tests --ignore=staticfiles --ignore=var

clean:
	rm -rf $(VENV) var test-output staticfiles node_modules
