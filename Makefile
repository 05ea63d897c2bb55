# The two commands of the README, and the ones a developer runs every day.
# `make demo` and `make test` install everything they need on a fresh machine.

UV ?= $(shell command -v uv 2>/dev/null || echo "$(HOME)/.local/bin/uv")
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test install lint bench browsers

$(UV):
	python3 -m pip install --user --quiet uv

install: $(UV)
	$(UV) sync --frozen

browsers:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)

# Demo mode: generated keys under ./var/keys and the published demo accounts.
demo: install
	HYGIE_MODE=demo $(UV) run hygie migrate
	HYGIE_MODE=demo $(UV) run hygie demo
	HYGIE_MODE=demo $(UV) run hygie serve --host $(HOST) --port $(PORT)

test: install browsers
	bash scripts/ensure_services.sh
	$(UV) run pytest -n 2 --dist loadfile

lint: install
	$(UV) run ruff check src tests bench scripts
	$(UV) run ruff format --check src tests bench scripts
	$(UV) run mypy

bench: install
	bash bench/run_hygie.sh
