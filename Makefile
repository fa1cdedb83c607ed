# Two commands a new user needs: `make demo` and `make test`.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
SOURCE ?=
FORMAT ?=
# the org's users and provider e-mail fixes for an export without inputs in demo/
USERS ?=
OVERRIDES ?=
# one work folder per export: the generated demo in work/, a given SOURCE in work/<its folder name>
WORK ?= $(if $(SOURCE),work/$(notdir $(abspath $(SOURCE))),)
export DO_NOT_TRACK=1
export SCARF_NO_ANALYTICS=true
export DBT_SEND_ANONYMOUS_USAGE_STATS=False
export AIRFLOW__COSMOS__ENABLE_TELEMETRY=False
export AIRFLOW__CORE__LOAD_EXAMPLES=False

.PHONY: demo test lint bench clean

$(BIN)/.installed: requirements.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

demo: $(BIN)/.installed
	$(BIN)/clinic2zoho migrate $(if $(SOURCE),--source $(SOURCE),) $(if $(FORMAT),--format $(FORMAT),) $(if $(USERS),--users $(USERS),) $(if $(OVERRIDES),--overrides $(OVERRIDES),) $(if $(WORK),--work $(WORK),)

test: $(BIN)/.installed
	$(BIN)/python -m pytest -n 3 --dist loadgroup --no-loadscope-reorder -q

lint: $(BIN)/.installed
	cd dbt_project && ../$(BIN)/sqlfluff lint models

clean:
	rm -rf work reports
