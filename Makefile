# The two commands of the README. Both set up everything they need on a fresh machine.
.PHONY: run test bench lint mutation

run:  ## set up, then navigate menus/bank.yaml on its embedded simulated line
	@scripts/bootstrap
	.venv/bin/ivrnav run menus/bank.yaml

test:  ## set up (Python deps, livekit-server, livekit-sip + redis, graphviz, Asterisk's recorded prompts), lint, run the whole test suite
	@scripts/bootstrap all
	@scripts/install-livekit-server
	@scripts/install-livekit-sip
	@scripts/ensure-graphviz
	@scripts/ensure-asterisk-sounds
	.venv/bin/ruff check .
	.venv/bin/pytest -q

bench:  ## run the benchmarks; results in bench/results/
	@scripts/bootstrap all
	.venv/bin/python -m bench

lint:
	.venv/bin/ruff check .

mutation:  ## mutation testing of the decision rules (cosmic-ray); score in bench/results/mutation-*.txt
	@scripts/bootstrap all
	scripts/mutation
