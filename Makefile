# roster: two commands. `make run` installs into .venv what the main job and the app need
# (`.[app]`) and runs the main job on the sample; `make test` adds the test extras
# (`.[app,dev,distributed,peers]`: pytest, Ray, VROOM, PyVRP, Playwright...) and runs the suite.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-app
TEST_STAMP := $(VENV)/.installed-test
SAMPLE := data/sample
OUT := out/sample

.PHONY: run test install install-test app lint bench bench-smoke clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[app]'
	$(BIN)/python -m solver.search.warm
	touch $(STAMP)

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[app,dev,distributed,peers]'
	$(BIN)/python -m solver.search.warm
	touch $(STAMP) $(TEST_STAMP)

install: $(STAMP)

install-test: $(TEST_STAMP)

run: $(STAMP)
	$(BIN)/roster validate $(SAMPLE)
	$(BIN)/roster solve $(SAMPLE) $(OUT) --time-limit 30
	$(BIN)/roster check $(SAMPLE) $(OUT)
	$(BIN)/roster kpis $(SAMPLE) $(OUT)

test: $(TEST_STAMP)
	./scripts/sysdeps.sh
	$(BIN)/python -m pytest -n 2 tests

lint: $(TEST_STAMP)
	$(BIN)/ruff check roster solver tests benchmarks app.py
	$(BIN)/mypy roster solver benchmarks app.py

app: $(STAMP)
	$(BIN)/streamlit run app.py

bench-smoke: $(TEST_STAMP)
	$(BIN)/roster bench smoke

bench: $(TEST_STAMP)
	$(BIN)/roster bench S M L

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
