# Linli: the two commands are `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test bench bench-lilim lint setup migrate seed worker serve-wsgi serve-prod messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

setup: $(STAMP)

migrate: setup
	$(BIN)/linli migrate --no-input -v 0

seed: migrate
	$(BIN)/linli seed --if-empty

## Set up, migrate, seed a demo city if the database is empty, and serve (ASGI, uvicorn).
run: seed
	@echo ""
	@echo "  Linli is starting on http://$(HOST):$(PORT)"
	@echo "    API docs      http://$(HOST):$(PORT)/api/docs"
	@echo "    OpenAPI       http://$(HOST):$(PORT)/api/v1/openapi.json"
	@echo "    Health        http://$(HOST):$(PORT)/healthz"
	@echo "    Back office   http://$(HOST):$(PORT)/ops/   (admin / linli-admin-2026)"
	@echo "  Demo logins: consumer +8613800138000 by SMS code (the code is printed in this log);"
	@echo "    merchant demo-merchant (owner), demo-manager, demo-cashier / linli-demo-2026,"
	@echo "    rider +8613700137000 / linli-demo-2026"
	@echo ""
	$(BIN)/uvicorn linli.asgi:application --host $(HOST) --port $(PORT) --workers 1

## Set up and run the test suite (DATABASE_URL / REDIS_URL if set; SQLite + local memory otherwise).
test: setup
	$(BIN)/pytest $(PYTEST_ARGS)

## Benchmarks that print figures (flash_sale and checkout need PostgreSQL, and skip without it).
bench: setup
	@for f in bench/bench_*.py bench/discovery.py bench/flash_sale.py bench/checkout.py bench/bookings_availability.py bench/settlement.py bench/analytics_dashboard.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

## Li & Lim PDPTW: the route optimiser against OR-Tools (56 instances x 2 solvers x LIMIT s).
LIMIT ?= 30
bench-lilim: setup
	$(BIN)/python bench/lilim.py --time-limit $(LIMIT)

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src/linli/orders/pricing.py src/linli/merchants/hours.py src/linli/discovery/geo.py src/linli/core/statemachine.py src/linli/core/ids.py src/linli/core/seed src/linli/*/services.py src/linli/payments/money.py src/linli/payments/ledger.py src/linli/payments/reconcile.py src/linli/accounts/member_code.py src/linli/pos/ean.py src/linli/pos/receipt.py \
		src/linli/bookings/slots.py src/linli/bookings/tables/assign.py src/linli/bookings/tables/services.py src/linli/finance/commission.py src/linli/finance/netting.py src/linli/discovery/recommend.py src/linli/discovery/quadtree.py src/linli/merchants/menu_cache.py src/linli/orders/reroute.py src/linli/core/ratelimit.py src/linli/core/backup.py src/linli/core/security.py \
		src/linli/core/crypto.py src/linli/core/access.py src/linli/core/dbrouter.py src/linli/core/outbox.py \
		src/linli/core/versioned.py src/linli/core/compiled.py src/linli/core/memory.py src/linli/core/postgresql/base.py src/linli/core/cachebatch.py src/linli/core/gcfreeze.py \
	src/linli/core/schema_build.py src/linli/core/qrcode.py src/linli/core/lazy_packages.py

worker: setup
	$(BIN)/celery -A linli worker -B -l info -Q default,dispatch,notifications,settlement

## Production-style API server: Django as WSGI under granian (no ASGI thread hops).
## Server-Sent Events still work (a thread per open stream); `make run` keeps uvicorn.
serve-wsgi: seed
	$(BIN)/granian --interface wsgi --host $(HOST) --port $(PORT) --workers 2 --blocking-threads 8 --no-ws linli.wsgi:application

## Production-like stack for the load harness (bench/load/): PostgreSQL, Redis, Celery beat and
## one worker per queue (default, dispatch, notifications, settlement; docs/scaling.md) on
## RabbitMQ, WORKERS granian processes on one port, and the outbox relay (web workers write
## task rows, the relay sends them: workers never load Celery, core/outbox.py); all in the
## foreground, Ctrl-C (or SIGTERM) stops every one of them. Seeds a modest city if the
## database has no stores. Our package and the venv are compiled to bytecode first, plain and
## -OO, as an installed wheel is (an editable install under PYTHONDONTWRITEBYTECODE compiles
## it in every process; nothing ships -OO bytecode); the OpenAPI document is built once.
PROD_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/linli_prod
PROD_REDIS_URL    ?= redis://127.0.0.1:6379/9
PROD_BROKER_URL   ?= amqp://guest:guest@127.0.0.1:5672//
PROD_PORT         ?= 8100
WORKERS           ?= 2
# Blocking threads per granian worker: every request is CPU-bound Python under one GIL, so
# more threads only add switching (browse mix, 2 workers: 1 thread 769 req/s p95 39 ms,
# 2: 754-862 / 35-40, 4: 685 / 64, 8: 611 / 79; orders, 2026-11-27, two servers on one
# database, 8-s wrk runs alternated six times: 2 threads median 517/s, 1 thread 473/s, though
# bench/checkout.py's open loop at 80 % kept a shorter tail with 1). Each open SSE stream holds one thread:
# raise THREADS to try consoles here, or serve /events/ from ASGI (docs/scaling.md).
THREADS           ?= 2
# Web workers run as `python -OO`: docstrings are not loaded (-5 MB a worker; asserts go
# too, and ours are type narrowing only). The one reader of docstrings is the OpenAPI
# document (models' descriptions), which is built beforehand by a plain process
# (`linli openapi_build`) and served from var/openapi.json (core/openapi_file.py).
# PROD_OPTIMIZE=0 runs them plain.
PROD_OPTIMIZE     ?= 2
serve-prod: setup
	@set -e; \
	export DATABASE_URL='$(PROD_DATABASE_URL)' REDIS_URL='$(PROD_REDIS_URL)' \
	       CELERY_BROKER_URL='$(PROD_BROKER_URL)' LINLI_LOG_LEVEL=$${LINLI_LOG_LEVEL:-WARNING} \
	       LINLI_SANDBOX_SECRET=$${LINLI_SANDBOX_SECRET:-linli-load-sandbox} LINLI_OUTBOX_RELAY=1 \
	       LINLI_OPENAPI_FILE=$(CURDIR)/var/openapi.json; \
	mkdir -p var; echo "serve-prod: bytecode for -O0 and -OO (the first start compiles the venv: a minute or two)"; \
	$(BIN)/python -m compileall -q -o 0 -o 2 src/linli $$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])') \
	  > var/compileall.log 2>&1 || echo "serve-prod: some files did not compile (var/compileall.log); they load from source"; \
	$(BIN)/python scripts/db_ensure.py "$$DATABASE_URL"; \
	$(BIN)/linli migrate --no-input -v 0; \
	$(BIN)/linli seed --if-empty --merchants 300 --users 100 --riders 30; \
	$(BIN)/linli openapi_build; \
	stop() { trap - INT TERM EXIT; kill $$pids 2>/dev/null; sleep 5; \
	  for p in $$pids; do pkill -P $$p 2>/dev/null; kill -9 $$p 2>/dev/null; done; wait; }; \
	trap stop INT TERM EXIT; \
	$(BIN)/celery -A linli beat -l warning --schedule var/celerybeat-schedule & pids="$$!"; \
	for q in default:2 dispatch:1 notifications:1 settlement:1; do \
	  $(BIN)/celery -A linli worker -l warning -Q $${q%%:*} -n $${q%%:*}@%h --concurrency $${q##*:} & \
	  pids="$$pids $$!"; done; \
	$(BIN)/linli outbox_relay & pids="$$pids $$!"; \
	PYTHONOPTIMIZE=$(PROD_OPTIMIZE) $(BIN)/granian --interface wsgi --host $(HOST) --port $(PROD_PORT) --workers $(WORKERS) \
	  --blocking-threads $(THREADS) --no-ws linli.wsgi:application & pids="$$pids $$!"; \
	echo "serve-prod: http://$(HOST):$(PROD_PORT) (pids $$pids)"; wait

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache

## Refresh the zh-Hans catalogue after changing translatable strings (needs gettext).
messages: setup
	cd src/linli && ../../$(BIN)/linli makemessages -l zh_Hans --no-location --no-wrap && ../../$(BIN)/linli compilemessages
