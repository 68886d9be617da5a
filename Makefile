# Deelwijzer: two commands.
#   make run   creates .venv, installs, starts the interview on the bundled rule set
#              (a demo signing key is generated on first use, in .demo/)
#   make test  same set-up, then the whole test suite (installs Debian's postgresql package when pg_ctl
#              is missing and we are root: the store tests start a throw-away PostgreSQL cluster)
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO := $(CURDIR)/.demo

.PHONY: run test lint bench check clean demo-key postgres release-demo

$(STAMP): pyproject.toml
	@$(PY) -c 'import sys; v = sys.version_info[:2]; sys.exit(0 if (3, 11) <= v < (3, 13) else "Deelwijzer needs Python 3.11 or 3.12 (durable-rules does not build on 3.13). Run: make PY=python3.12 ...")'
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

demo-key: $(STAMP)
	@mkdir -p $(DEMO)
	@if [ ! -f $(DEMO)/keys/private-key.ossh ] && [ ! -f $(DEMO)/keys/private-key.p12 ]; then \
	  umask 077; printf 'demo-passphrase-change-me\n' > $(DEMO)/passphrase; \
	  $(BIN)/deelwijzer keys init --out $(DEMO)/keys --owner "Demo (Deelwijzer)" --passphrase-file $(DEMO)/passphrase && \
	  $(BIN)/deelwijzer keys trust $(DEMO)/keys/public-key.pem --trusted-keys $(DEMO)/trusted-keys.json --owner "Demo (Deelwijzer)" && \
	  echo "Demo signing key created in $(DEMO)/keys; its passphrase is in $(DEMO)/passphrase (demo only)."; \
	fi

run: demo-key
	DEELWIJZER_HOME=$(DEMO) $(BIN)/deelwijzer

# A signed release of the bundled rules (docs/releases.md), with a demo release key trusted for the
# role "release" only; .demo/release points at the newest. `make run` stays on the plain rules
# (and says "regels niet vrijgegeven").
release-demo: demo-key
	@if [ ! -f $(DEMO)/release-key/private-key.ossh ]; then \
	  $(BIN)/deelwijzer keys init --out $(DEMO)/release-key --owner "Demo privacy officer (FG)" --passphrase-file $(DEMO)/passphrase >/dev/null && \
	  $(BIN)/deelwijzer keys trust $(DEMO)/release-key --trusted-keys $(DEMO)/trusted-keys.json --owner "Demo privacy officer (FG)" --role release; \
	fi
	@out=$(DEMO)/releases/$$(date -u +%Y%m%dT%H%M%SZ); \
	$(BIN)/deelwijzer rules release --key $(DEMO)/release-key --passphrase-file $(DEMO)/passphrase --out $$out \
	  --trusted-keys $(DEMO)/trusted-keys.json --notes "Demo release of the bundled rules" && \
	$(BIN)/deelwijzer rules verify-release $$out --trusted-keys $(DEMO)/trusted-keys.json && \
	ln -sfn $$out $(DEMO)/release && \
	echo "Run on it: DEELWIJZER_HOME=$(DEMO) DEELWIJZER_RELEASE=$(DEMO)/release $(BIN)/deelwijzer   (the interview)" && \
	echo "       or: DEELWIJZER_HOME=$(DEMO) $(BIN)/deelwijzer decide CASE --release $(DEMO)/release"

test: $(STAMP) lint postgres
	$(BIN)/python -m pytest -n 2 --dist loadgroup --durations=10

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy engine legal_bases audit

postgres:
	@sh tests/store/ensure_postgres.sh

check: $(STAMP)
	$(BIN)/deelwijzer rules check && $(BIN)/deelwijzer rules test

bench: $(STAMP)
	$(BIN)/python bench/engine.py
	$(BIN)/python bench/audit.py --records 20000
	$(BIN)/python bench/tui_start.py
	$(BIN)/python bench/store.py --records 20000

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis *.egg-info
