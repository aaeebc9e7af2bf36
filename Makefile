# roster: two commands. `make run` installs into .venv and runs the main job on the sample;
# `make test` runs the whole suite.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SAMPLE := data/sample
OUT := out/sample

.PHONY: run test install app lint bench bench-smoke clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[app,dev,distributed,peers]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/roster validate $(SAMPLE)
	$(BIN)/roster solve $(SAMPLE) $(OUT) --time-limit 30
	$(BIN)/roster check $(SAMPLE) $(OUT)
	$(BIN)/roster kpis $(SAMPLE) $(OUT)

test: $(STAMP)
	./scripts/sysdeps.sh
	$(BIN)/python -m pytest -n 2 tests

lint: $(STAMP)
	$(BIN)/ruff check roster solver tests benchmarks app.py
	$(BIN)/mypy roster solver benchmarks app.py

app: $(STAMP)
	$(BIN)/streamlit run app.py

bench-smoke: $(STAMP)
	$(BIN)/roster bench smoke

bench: $(STAMP)
	$(BIN)/roster bench S M L

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
